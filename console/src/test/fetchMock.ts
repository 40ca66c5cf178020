/* fetchMock.ts: a fetch stand-in for component tests: routes by method and
 * path to canned answers, and records the requests made. */
import { vi } from 'vitest';

export type Route = (body: string | undefined) => { status: number; body: unknown; text?: string };

export function mockFetch(routes: Record<string, Route | { status: number; body: unknown; text?: string }>) {
  const calls: { method: string; url: string; body?: string }[] = [];
  const fn = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? init.body : undefined;
    calls.push({ method, url, body });
    const r = routes[`${method} ${url}`];
    if (!r) return new Response(JSON.stringify({ error: { code: 'not_found', message: `no route ${method} ${url}` } }), { status: 404 });
    const a = typeof r === 'function' ? r(body) : r;
    const text = a.text ?? (a.body === null ? '' : JSON.stringify(a.body));
    return new Response(a.status === 204 ? null : text, { status: a.status });
  });
  globalThis.fetch = fn as unknown as typeof fetch;
  return { fn, calls };
}
