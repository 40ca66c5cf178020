/* vite.config.ts: build of the console (served by nginx at /console/),
 * the dev server's proxy to a local ddt nginx, and Vitest's settings. */
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const target = process.env.DDT_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  server: {
    proxy: { '/v1': target, '/metrics': target },
  },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 1200 },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
