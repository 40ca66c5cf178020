/*
 * console.e2e.mjs: end-to-end tests of the web console in a real browser.
 * Starts Debian's nginx with the freshly built ddt module on a free
 * 127.0.0.1 port (temporary prefix, demo projects, the console's dist/),
 * drives Debian's chromium with playwright-core, and saves a screenshot of
 * every screen under build/console-screenshots/.  Run with
 * `node --test e2e/` from console/ after `npm run build` and
 * `./build.sh build`.  Waits are on elements and answers, never on time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONSOLE = path.resolve(HERE, '..');
const ROOT = path.resolve(CONSOLE, '..');
const MODULE = process.env.DDT_MODULE || path.join(ROOT, 'build/nginx/objs/ngx_http_ddt_module.so');
const NGINX = process.env.TEST_NGINX_BINARY || '/usr/sbin/nginx';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'build/console-screenshots');
const WAIT = 20000;

let nginx, prefix, port, base, ctx, page, userDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function nginxConf() {
  const projects = fs.readdirSync(path.join(ROOT, 'conf/projects'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `    ddt_project ${path.join(ROOT, 'conf/projects', f)};`).join('\n');
  return `
load_module ${MODULE};
daemon off;
master_process on;
worker_processes 2;
error_log ${prefix}/logs/error.log info;
pid ${prefix}/logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log ${prefix}/logs/access.log;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    default_type application/octet-stream;
    ddt_zone_size 16m;
    ddt_test_now 2026-11-26T10:00:00Z;
${projects}
    server {
        listen 127.0.0.1:${port};
        location /v1/ { ddt_api; }
        location /v1/projects/ { allow 127.0.0.1; deny all; ddt_admin; }
        location = /metrics { allow 127.0.0.1; deny all; ddt_metrics; }
        location /console/ {
            alias ${CONSOLE}/dist/;
            index index.html;
            types { text/html html; text/javascript js; text/css css; image/svg+xml svg; }
        }
        location = /backend/pratiche {
            default_type application/json;
            return 200 '{"id": "PR-2026-0042", "waitMinutes": 3}';
        }
        location = /backend/appointments {
            default_type application/json;
            return 200 '{"reference": "RC-1187", "room": "B12"}';
        }
    }
}
`;
}

async function waitHealthy() {
  const deadline = Date.now() + WAIT;
  let last;
  while (Date.now() < deadline) {
    if (nginx.exitCode !== null) break;
    try {
      const r = await fetch(`${base}/v1/health`);
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (e) { last = e.message; }
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not a synchronisation sleep
  }
  const log = fs.existsSync(`${prefix}/logs/error.log`) ? fs.readFileSync(`${prefix}/logs/error.log`, 'utf8') : '';
  throw new Error(`nginx did not become healthy (${last}):\n${log.slice(-2000)}`);
}

const shot = (name) => page.screenshot({ path: path.join(SHOTS, name), fullPage: true });

/* WCAG 2 A/AA rules of axe-core (labels, names, contrast, ARIA) on the
 * screen as it is: any serious or critical violation fails the test. */
async function accessible(screenName) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: AXE });
  const v = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] });
    return r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(v, [], `accessibility violations on ${screenName}:\n${v.join('\n')}`);
}

/* The whole run stays under three minutes: past that, stop nginx and fail. */
const DEADLINE_MS = Number(process.env.E2E_DEADLINE_MS || 170000);
setTimeout(() => {
  console.error(`e2e: over ${DEADLINE_MS} ms, giving up`);
  if (nginx && nginx.exitCode === null) nginx.kill('SIGTERM'); // fast shutdown, workers too
  ctx?.close().catch(() => undefined);
  process.exit(1);
}, DEADLINE_MS).unref();

before(async () => {
  assert.ok(fs.existsSync(MODULE), `module not built: ${MODULE} (run ./build.sh build)`);
  assert.ok(fs.existsSync(path.join(CONSOLE, 'dist/index.html')), 'console not built (npm run build)');
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM} (apt-get install chromium)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'ddt-console-e2e-'));
  for (const d of ['conf', 'logs', 'tmp']) fs.mkdirSync(path.join(prefix, d));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  fs.writeFileSync(path.join(prefix, 'conf/nginx.conf'), nginxConf());
  nginx = spawn(NGINX, ['-p', `${prefix}/`, '-c', `${prefix}/conf/nginx.conf`, '-e', `${prefix}/logs/error.log`],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  await waitHealthy();

  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddt-console-chromium-'));
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'it-IT',
    viewport: { width: 1400, height: 950 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=it-IT'],
    timeout: WAIT,
  });
  ctx.setDefaultTimeout(WAIT);
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await ctx?.close().catch(() => undefined);
  if (nginx && nginx.exitCode === null) {
    const gone = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGQUIT');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (nginx.exitCode === null) nginx.kill('SIGTERM');
  }
  if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  if (prefix && !process.env.KEEP_E2E_PREFIX) fs.rmSync(prefix, { recursive: true, force: true });
});

const say = async (text) => {
  const before = await page.locator('.bubble').count();
  await page.getByLabel('Cosa dice il chiamante').fill(text);
  await page.getByRole('button', { name: 'Invia', exact: true }).click();
  await page.locator('.bubble').nth(before + 1).waitFor();
  await page.getByLabel('Cosa dice il chiamante').and(page.locator(':enabled')).or(page.locator('[data-status]:not([data-status=waiting])')).first().waitFor();
};
const lastBot = () => page.locator('.bubble.bot').last();
const counter = (item, c) => page.locator(`tr[data-item="${item}"] td[data-counter="${c}"]`);
const tab = (name) => page.getByRole('tab', { name, exact: true }).click();

const BROKEN = `{
  "format": "ddt-project/1",
  "name": "prova-e2e",
  "version": "rotto-1",
  "locale": "it-IT",
  "flow": {
    "start": "saluto",
    "nodes": [
      { "id": "saluto", "tasks": [ { "type": "SayMessage", "text": "Ciao." } ] }
    ],
    "edges": [
      { "from": "saluto", "to": "ghost" }
    ]
  },
  "ddts": {}
}
`;

test('Projects: the loaded projects are listed with version, checksum and load time', async () => {
  await page.goto(`${base}/console/`);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'it');
  const row = page.locator('tr[data-project="accettazione"]');
  await row.waitFor();
  assert.match(await row.innerText(), /2026-11-26\.1/);
  assert.match(await row.locator('code').innerText(), /^[0-9a-f]{8,}$/);
  await page.locator('tr[data-project="clinic"]').waitFor();
  await shot('01-projects.png');
  await accessible('01-projects');
  await page.getByRole('button', { name: 'Vedi il file: accettazione' }).click();
  await page.getByRole('region', { name: /File di progetto \(sola lettura\): accettazione/ })
    .getByText('"start": "benvenuto",').waitFor();
  await shot('01b-projects-view-file.png');
});

test('Projects: a file with a compile error shows the error at its JSON path, highlighted in the file', async () => {
  const file = path.join(prefix, 'prova-e2e.json');
  fs.writeFileSync(file, BROKEN);
  await page.locator('input[type=file]').setInputFiles(file);
  await page.getByText(/Il progetto non compila/).waitFor();
  const item = page.locator('ol.errors li').filter({ hasText: 'flow.edges[0].to' });
  await item.waitFor();
  assert.match(await item.innerText(), /ghost/);
  const marked = page.locator('.line.marked[data-error-paths~="flow.edges[0].to"]');
  await marked.waitFor();
  assert.match(await marked.innerText(), /"to": "ghost"/);
  await shot('02-projects-compile-error.png');
  await accessible('02-projects-compile-error');
});

test('Projects: a good file dropped on the page is loaded through the admin location', async () => {
  const good = BROKEN.replace('"ghost"', '"saluto"').replace('rotto-1', 'buono-1')
    .replace('"edges": [\n      { "from": "saluto", "to": "saluto" }\n    ]', '"edges": []');
  await page.evaluate(async (text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'prova-e2e.json', { type: 'application/json' }));
    const zone = document.querySelector('[data-testid=dropzone]');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, good);
  await page.getByText(/Progetto "prova-e2e" versione buono-1 caricato/).waitFor();
  await page.locator('tr[data-project="prova-e2e"]').waitFor();
  const r = await (await fetch(`${base}/v1/projects`)).json();
  assert.ok(r.projects.some((p) => p.name === 'prova-e2e' && p.version === 'buono-1'));
});

test('Simulator: a full Italian conversation with a correction in confirmation, the flow highlight moving', async () => {
  await tab('Simulatore');
  await page.getByLabel('Progetto', { exact: true }).selectOption('accettazione');
  await page.getByLabel('Lingua della sessione').selectOption('it-IT');
  await page.getByRole('button', { name: 'Avvia sessione' }).click();
  await page.locator('.bubble[data-step=start][data-data=name]').waitFor();
  assert.match(await page.locator('.bubble.flow').first().innerText(), /Benvenuto nel servizio clienti di Acme Energia/);
  assert.equal(await page.getByTestId('current-node').innerText(), 'benvenuto');

  await tab('Flusso');
  await page.locator('.flow-node.current[data-node-id=benvenuto]').waitFor();
  await page.getByRole('button', { name: 'Apri il DDT cliente' }).click();
  const panel = page.locator('.ddt-panel');
  await panel.getByText('Ho capito {cliente.birthDate}. È corretto?').waitFor();
  assert.ok(await panel.locator('[data-data-id=fiscalCode]').count() === 1);
  await shot('05-flow-ddt-open.png');
  await accessible('05-flow-ddt-open');
  await tab('Simulatore');

  await say('mi chiamo Mario Rossi');
  await page.locator('.bubble[data-step=start][data-data=birthDate]').waitFor();
  await say('12 marzo 1980');
  assert.match(await lastBot().innerText(), /Ho capito 12 marzo 1980\. È corretto\?/);
  assert.match(await lastBot().innerText(), /confirmation/);
  await say('no, il giorno è 13');
  assert.match(await lastBot().innerText(), /Ho capito 13 marzo 1980\. È corretto\?/);
  assert.equal(await counter('cliente.birthDate', 'notConfirmed').innerText(), '1/2');
  assert.match(await page.getByTestId('expecting').innerText(), /cliente\.birthDate · confirmation · yesno/);
  await shot('04-live-state-correction.png');
  await say('sì');
  await page.locator('.bubble[data-step=success][data-data=birthDate]').waitFor();
  assert.equal(await page.locator('tr[data-item="cliente.birthDate"] td[data-state]').innerText(), 'filled');
  assert.equal(await counter('cliente.birthDate', 'notConfirmed').innerText(), '0/2');
  await say('RSSMRA80A01H501U');
  await page.locator('.bubble[data-step=start][data-data=reason]').waitFor();
  assert.equal(await page.getByTestId('current-node').innerText(), 'motivo');

  await tab('Flusso');
  await page.locator('.flow-node.current[data-node-id=motivo]').waitFor();
  assert.equal(await page.locator('.flow-node.current').count(), 1);
  await tab('Simulatore');

  await say('guasto');
  await say('347 123 4567');
  assert.match(await lastBot().innerText(), /Il numero è 3471234567\. È corretto\?/);
  await shot('03-simulator-conversation.png');
  await accessible('03-simulator-conversation');
  await say('sì');
  await page.locator('[data-action=sendSMS]').waitFor();
  await page.locator('[data-action=sendEmail]').waitFor();
  await page.locator('[data-action=custom]').waitFor();
  await page.locator('[data-action=endCall]').waitFor();
  await page.locator('[data-status=ended]').waitFor();
  assert.match(await page.locator('[data-action=sendEmail]').innerText(), /Nuova pratica PR-2026-0042 \(guasto\)/);
  await page.getByText('Stato: terminata').waitFor();
  // live state: memory formatted by kind, raw JSON of the last answer
  const mem = page.getByTestId('memory');
  assert.match(await mem.locator('[data-path="cliente.birthDate"]').innerText(), /13 marzo 1980 \(date\)/);
  assert.match(await mem.innerText(), /confidenza 1/);
  await page.getByText("JSON grezzo dell'ultima risposta").click();
  assert.match(await page.getByTestId('raw-json').innerText(), /"status": "ended"/);
  await shot('04b-simulator-ended-live-state.png');
  await accessible('04b-simulator-ended-live-state');

  await tab('Flusso');
  await page.locator('.flow-node.current[data-node-id=conferma]').waitFor();
  // the silent BackendCall node on the way is marked as passed
  await page.locator('.flow-node.visited[data-node-id=verifica]').waitFor();
  assert.equal(await page.locator('.flow-node.visited[data-node-id=operatore]').count(), 0);
  await shot('05-flow.png');
  await accessible('05-flow');
});

test('Simulator: a saved conversation replays to the same end in a new session', async () => {
  await tab('Simulatore');
  const firstId = (await page.locator('.facts code').innerText()).trim();
  await page.getByRole('button', { name: 'Salva conversazione' }).click();
  await page.getByText('Conversazione salvata (8 turni).').waitFor();
  await page.getByRole('button', { name: "Riproduci l'ultima salvata" }).click();
  // the old session had ended too: wait for the new one to reach its end
  await page.waitForFunction((old) => {
    const id = document.querySelector('.facts code')?.textContent?.trim();
    return id && id !== old && document.querySelector('[data-status=ended]')
      && document.querySelector('[data-testid=session-version]')?.textContent === '9';
  }, firstId, { timeout: WAIT });
  await page.locator('[data-action=endCall]').waitFor();
  const id = (await page.locator('.facts code').innerText()).trim();
  assert.notEqual(id, firstId);
  assert.equal(await page.locator('.bubble.user').count(), 8);
  assert.equal(await page.getByTestId('session-version').innerText(), '9');
  const r = await (await fetch(`${base}/v1/sessions/${id}`)).json();
  assert.equal(r.status, 'ended');
  assert.deepEqual(r.memory.cliente.birthDate, { day: 13, month: 3, year: 1980 });
});

test('Simulator: counters climb on no-match and an exhausted node leads to a transfer card', async () => {
  await tab('Simulatore');
  await page.getByRole('button', { name: 'Ricomincia' }).click();
  await page.locator('[data-status=waiting]').waitFor();
  await page.locator('.bubble[data-step=start][data-data=name]').waitFor();
  assert.equal(await counter('cliente.name', 'noMatch').innerText(), '0/3');
  for (let n = 1; n <= 3; n++) {
    await page.getByRole('button', { name: 'Non riconosciuto' }).click();
    await page.locator(`.bubble[data-step=noMatch][data-data=name]`).nth(n - 1).waitFor();
    await page.locator(`tr[data-item="cliente.name"] td[data-counter=noMatch]`, { hasText: `${n}/3` }).waitFor();
  }
  assert.match(await page.getByTestId('expecting').innerText(), /cliente\.name · noMatch · text · #3/);
  await shot('06-simulator-nomatch-counters.png');
  await page.getByRole('button', { name: 'Non riconosciuto' }).click();
  const card = page.locator('[data-action=transfer]');
  await card.waitFor();
  assert.match(await card.innerText(), /Trasferimento a operatore/);
  assert.match(await card.innerText(), /accettazione/);
  await page.locator('[data-status=transferred]').waitFor();
  assert.equal(await page.locator('tr[data-item="cliente.name"] td[data-state]').innerText(), 'exhausted');
  assert.equal(await counter('cliente.name', 'noMatch').innerText(), '4/3');
  assert.equal(await page.getByTestId('current-node').innerText(), 'operatore');
  await shot('07-simulator-transfer.png');
  await accessible('07-simulator-transfer');
  await tab('Flusso');
  await page.locator('.flow-node.current[data-node-id=operatore]').waitFor();
  await shot('08-flow-transfer.png');
});

test('Simulator: an API error is a sentence, not a blank screen', async () => {
  await tab('Simulatore');
  await page.getByRole('button', { name: 'Ricomincia' }).click();
  await page.locator('[data-status=waiting]').waitFor();
  const id = (await page.locator('.facts code').innerText()).trim();
  const del = await fetch(`${base}/v1/sessions/${id}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  await page.getByLabel('Cosa dice il chiamante').fill('Mario Rossi');
  await page.getByRole('button', { name: 'Invia', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Questa sessione non esiste più' }).waitFor();
  await shot('09-simulator-api-error.png');
});

test('Health: store status and figures from /metrics', async () => {
  await tab('Stato');
  await page.getByTestId('store-status').filter({ hasText: 'raggiungibile' }).waitFor();
  const turns = page.locator('[data-metric=turns] dd');
  await turns.waitFor();
  assert.ok(Number(await turns.innerText()) >= 10, 'turns counted');
  await page.locator('[data-metric=p99] dd').filter({ hasText: /ms|s/ }).waitFor();
  await page.locator('[data-metric=sessions] dd').waitFor();
  // the second sample (every 3 s) gives turns per second
  await page.locator('[data-metric=tps] dd').filter({ hasText: /^\d+,\d\d$/ }).waitFor();
  await shot('10-health.png');
  await accessible('10-health');
});

test('Keyboard only: tabs with the arrow keys, start a session and talk without a mouse', async () => {
  await page.getByRole('tab', { name: 'Stato', exact: true }).focus();
  await page.keyboard.press('Home');
  assert.equal(await page.getByRole('tab', { name: 'Progetti', exact: true }).getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowRight');
  const simTab = page.getByRole('tab', { name: 'Simulatore', exact: true });
  assert.equal(await simTab.getAttribute('aria-selected'), 'true');
  assert.ok(await simTab.evaluate((el) => el === document.activeElement));
  // Tab: project, locale, variables, then the start button
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Avvia sessione');
  await page.keyboard.press('Enter');
  await page.locator('[data-status=waiting]').waitFor();
  await page.locator('.bubble[data-step=start][data-data=name]').last().waitFor();
  // after a start the caller's field has the focus
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'say');
  await page.keyboard.type('mi chiamo Mario Rossi');
  await page.keyboard.press('Enter');
  await page.locator('.bubble[data-step=start][data-data=birthDate]').last().waitFor();
  await shot('11-keyboard-only.png');
});
