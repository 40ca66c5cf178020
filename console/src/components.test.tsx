/* components.test.tsx: the screens in jsdom with a stand-in fetch: what a
 * person sees and can do with the keyboard (Testing Library queries by
 * role and label). */
import { describe, expect, it, vi, beforeEach } from 'vitest';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from './App';
import { I18n, makeT, type Lang } from './i18n';
import { ProjectsView } from './components/ProjectsView';
import { SimulatorView } from './components/SimulatorView';
import { HealthView } from './components/HealthView';
import { DdtPanel } from './components/FlowView';
import { useSimulator } from './useSimulator';
import { mockFetch } from './test/fetchMock';
import type { ProjectFile } from './types';

const wrap = (ui: React.ReactNode, lang: Lang = 'en') =>
  render(<I18n.Provider value={{ lang, t: makeT(lang) }}>{ui}</I18n.Provider>);

const ROWS = { projects: [
  { name: 'accettazione', version: '2026-11-26.1', checksum: '00876f8edccf5945', loadedAt: '2026-11-26T04:54:38Z', size: 8992, current: true },
] };

const PROJECT: ProjectFile = {
  name: 'accettazione', locale: 'it-IT',
  flow: { start: 'benvenuto', nodes: [
    { id: 'benvenuto', tasks: [{ type: 'GetData', ddt: 'cliente' }] },
    { id: 'operatore', tasks: [{ type: 'TransferToOperator', queue: 'accettazione' }] },
  ], edges: [{ from: 'benvenuto', to: 'operatore', condition: 'cliente.$status == "exhausted"' }] },
  ddts: { cliente: { mixedInitiative: true, data: [
    { id: 'name', kind: 'text', steps: { start: ['Come si chiama?'], noMatch: ['Non ho capito. Come si chiama?'] }, limits: { noMatch: 2 } },
    { id: 'birthDate', kind: 'date', confirm: 'always', steps: { start: ['Data di nascita?'], confirmation: ['Ho capito {cliente.birthDate}. È corretto?'] } },
  ] } },
};

beforeEach(() => { localStorage.clear(); });

describe('Projects screen', () => {
  it('lists the loaded projects', async () => {
    mockFetch({ 'GET /v1/projects': { status: 200, body: ROWS } });
    wrap(<ProjectsView />);
    const row = await screen.findByRole('row', { name: /accettazione/ });
    expect(within(row).getByText('2026-11-26.1')).toBeInTheDocument();
    expect(within(row).getByText('00876f8edccf5945')).toBeInTheDocument();
  });

  it('shows every compile error at its JSON path and marks its line in the file', async () => {
    const { calls } = mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'PUT /v1/projects/broken': { status: 422, body: { error: { code: 'invalid_project', message: '1 error',
        errors: [{ path: 'flow.edges[0].to', message: "unknown node 'ghost'" }] } } },
    });
    wrap(<ProjectsView />);
    const text = '{\n  "name": "broken",\n  "flow": {\n    "edges": [\n      { "from": "a", "to": "ghost" }\n    ]\n  }\n}\n';
    const input = screen.getByLabelText('Choose a project file');
    await userEvent.upload(input, new File([text], 'broken.json', { type: 'application/json' }));
    expect(await screen.findByText(/does not compile: 1 error/)).toBeInTheDocument();
    expect(screen.getByText('flow.edges[0].to')).toBeInTheDocument();
    const list = screen.getByRole('list', { name: /does not compile/ });
    expect(within(list).getByText(/unknown node 'ghost'/)).toBeInTheDocument();
    const marked = document.querySelector('.line.marked')!;
    expect(marked.id).toBe('src-line-5');
    expect(marked.textContent).toContain('"to": "ghost"');
    expect(calls.find((c) => c.method === 'PUT')!.body).toBe(text);
  });

  it('says when the admin location refuses (403) or the file is not JSON', async () => {
    mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'PUT /v1/projects/x': { status: 403, body: null, text: '<html>403 Forbidden</html>' },
    });
    wrap(<ProjectsView />);
    const input = screen.getByLabelText('Choose a project file');
    await userEvent.upload(input, new File(['{"name":"x"}'], 'x.json'));
    expect(await screen.findByRole('alert')).toHaveTextContent(/admin location is open to trusted addresses only/);
    await userEvent.upload(input, new File(['{"name":'], 'y.json'));
    expect(await screen.findByRole('alert')).toHaveTextContent(/not valid JSON/);
  });

  it('shows the file of a loaded project, read only', async () => {
    mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'GET /v1/projects/accettazione': { status: 200, body: { name: 'accettazione', version: '2026-11-26.1', checksum: '00876f8edccf5945', source: PROJECT } },
    });
    wrap(<ProjectsView />);
    await userEvent.click(await screen.findByRole('button', { name: 'View file: accettazione' }));
    const view = await screen.findByRole('region', { name: /Project file \(read only\): accettazione 2026-11-26.1/ });
    expect(view).toHaveTextContent('"start": "benvenuto"');
  });

  it('lists warnings of a successful load', async () => {
    mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'PUT /v1/projects/ok': { status: 201, body: { name: 'ok', version: 'v2', checksum: 'abc', warnings: [{ path: 'flow.nodes[1]', message: 'unreachable node' }] } },
    });
    wrap(<ProjectsView />);
    await userEvent.upload(screen.getByLabelText('Choose a project file'), new File(['{"name":"ok"}'], 'ok.json'));
    expect(await screen.findByText(/Project "ok" version v2 loaded/)).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Warnings' })).getByText(/unreachable node/)).toBeInTheDocument();
  });
});

function Sim() {
  const sim = useSimulator();
  return <SimulatorView sim={sim} />;
}

const T1 = { sessionId: 'S1', version: 1, status: 'waiting',
  messages: [{ text: 'Benvenuto.', node: 'benvenuto' },
             { text: 'Come si chiama?', ddt: 'cliente', data: 'name', sub: null, step: 'start', escalation: 1 }],
  actions: [], expecting: { ddt: 'cliente', data: 'name', sub: null, step: 'start', kind: 'text', escalation: 1 } };
const T2 = { sessionId: 'S1', version: 2, status: 'waiting',
  messages: [{ text: 'Non ho capito. Come si chiama?', ddt: 'cliente', data: 'name', sub: null, step: 'noMatch', escalation: 1 }],
  actions: [], expecting: { ddt: 'cliente', data: 'name', sub: null, step: 'noMatch', kind: 'text', escalation: 1 } };
const T3 = { sessionId: 'S1', version: 3, status: 'transferred',
  messages: [{ text: 'La passo a un operatore.', node: 'operatore' }],
  actions: [{ type: 'transfer', queue: 'accettazione' }], expecting: null };
const info = (version: number, state: string) => ({ sessionId: 'S1', project: 'accettazione', projectVersion: '2026-11-26.1',
  status: 'waiting', version, memory: { brand: 'Acme', cliente: { $meta: { name: { state } } } }, expecting: null });

describe('Simulator screen', () => {
  it('starts a session, tags each prompt, counts no-matches and shows the transfer card', async () => {
    let turn = 0;
    const { calls } = mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'GET /v1/projects/accettazione': { status: 200, body: { name: 'accettazione', version: '1', checksum: 'c', source: PROJECT } },
      'POST /v1/sessions': { status: 201, body: T1 },
      'POST /v1/sessions/S1/turns': () => ({ status: 200, body: [T2, T3][turn++] }),
      'GET /v1/sessions/S1': () => ({ status: 200, body: turn < 2 ? info(1 + turn, 'asking') : info(3, 'exhausted') }),
    });
    wrap(<Sim />);
    await screen.findByRole('option', { name: /accettazione/ });
    await userEvent.selectOptions(screen.getByLabelText('Locale'), 'it-IT');
    await userEvent.type(screen.getByLabelText('Initial variables (JSON object)'), '{{"canale": "web"}');
    await userEvent.click(screen.getByRole('button', { name: 'Start session' }));
    expect(await screen.findByText('Come si chiama?')).toBeInTheDocument();
    expect(JSON.parse(calls.find((c) => c.url === '/v1/sessions')!.body!)).toEqual(
      { project: 'accettazione', locale: 'it-IT', variables: { canale: 'web' } });
    const prompt = screen.getByText('Come si chiama?').closest('li')!;
    for (const tag of ['cliente', 'name', 'start', '#1']) expect(within(prompt).getByText(tag)).toBeInTheDocument();
    expect(screen.getByTestId('current-node')).toHaveTextContent('benvenuto');

    await userEvent.click(screen.getByRole('button', { name: 'No match' }));
    await screen.findByText('Non ho capito. Come si chiama?');
    expect(JSON.parse(calls.filter((c) => c.url === '/v1/sessions/S1/turns')[0].body!)).toEqual({ event: 'noMatch' });
    await waitFor(() => expect(document.querySelector('tr[data-item="cliente.name"] td[data-counter=noMatch]')).toHaveTextContent('1/2'));

    // the text field has focus after a turn: typing and Enter send a turn
    await userEvent.keyboard('Mario{Enter}');
    const card = await screen.findByRole('listitem', { name: 'Transfer to operator' });
    expect(card).toHaveTextContent('accettazione');
    expect(screen.getByText(/Status: transferred/)).toBeInTheDocument();
    expect(screen.getByTestId('current-node')).toHaveTextContent('operatore');
    expect(screen.getByLabelText('What the caller says')).toBeDisabled();
  });

  it('explains a 409 and a 503 instead of failing silently', async () => {
    let n = 0;
    mockFetch({
      'GET /v1/projects': { status: 200, body: ROWS },
      'GET /v1/projects/accettazione': { status: 200, body: { name: 'accettazione', version: '1', checksum: 'c', source: PROJECT } },
      'POST /v1/sessions': { status: 201, body: T1 },
      'GET /v1/sessions/S1': { status: 200, body: info(1, 'asking') },
      'POST /v1/sessions/S1/turns': () => (n++ === 0
        ? { status: 409, body: { error: { code: 'conflict', message: 'turn in progress' } } }
        : { status: 503, body: { error: { code: 'store_unavailable', message: 'redis down' } } }),
    });
    wrap(<Sim />, 'it');
    await screen.findByRole('option', { name: /accettazione/ });
    await userEvent.click(screen.getByRole('button', { name: 'Avvia sessione' }));
    await screen.findByText('Come si chiama?');
    await userEvent.click(screen.getByRole('button', { name: 'Tasto DTMF 1' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/Era in corso un altro turno su questa sessione/);
    await userEvent.click(screen.getByRole('button', { name: 'Nessun input' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent(/archivio delle sessioni non è disponibile/));
  });

  it('rejects initial variables that are not an object', async () => {
    mockFetch({ 'GET /v1/projects': { status: 200, body: ROWS } });
    wrap(<Sim />);
    await screen.findByRole('option', { name: /accettazione/ });
    await userEvent.type(screen.getByLabelText('Initial variables (JSON object)'), '[[1]');
    await userEvent.click(screen.getByRole('button', { name: 'Start session' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Initial variables must be a JSON object.');
  });
});

describe('Flow: a DDT opened', () => {
  it('shows its data nodes and the prompts of each step', () => {
    wrap(<DdtPanel project={PROJECT} ddt="cliente" onClose={() => undefined} />);
    const panel = screen.getByRole('region', { name: 'DDT cliente' });
    expect(within(panel).getByText('mixed initiative')).toBeInTheDocument();
    expect(within(panel).getByText('Ho capito {cliente.birthDate}. È corretto?')).toBeInTheDocument();
    expect(within(panel).getByText('confirmation')).toBeInTheDocument();
    expect(within(panel).getByText(/noMatch 2/)).toBeInTheDocument();
  });
});

describe('Health screen', () => {
  it('shows the store status and figures, refreshed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let turns = 10;
    mockFetch({
      'GET /v1/health': { status: 200, body: { status: 'ok' } },
      'GET /metrics': () => ({ status: 200, body: null, text: `ddt_turns_total{kind="turn",status="waiting"} ${turns}\nddt_sessions 4\nddt_errors_total{code="conflict"} 2\n` }),
    });
    wrap(<HealthView everySeconds={3} />);
    expect(await screen.findByText('reachable')).toBeInTheDocument();
    await waitFor(() => expect(document.querySelector('[data-metric=sessions] dd')).toHaveTextContent('4'));
    expect(document.querySelector('[data-metric=errors] dd')).toHaveTextContent('2');
    turns = 40;
    await act(async () => { await vi.advanceTimersByTimeAsync(3000); });
    await waitFor(() => expect(document.querySelector('[data-metric=turns] dd')).toHaveTextContent('40'));
    vi.useRealTimers();
  });

  it('says the store is down on a 503', async () => {
    mockFetch({
      'GET /v1/health': { status: 503, body: { error: { code: 'store_unavailable', message: 'x' } } },
      'GET /metrics': { status: 200, body: null, text: 'ddt_store_errors_total 7\n' },
    });
    wrap(<HealthView />, 'it');
    expect(await screen.findByText('non raggiungibile (503)')).toBeInTheDocument();
    await waitFor(() => expect(document.querySelector('[data-metric=storeErrors] dd')).toHaveTextContent('7'));
  });
});

describe('the shell', () => {
  it('speaks Italian to an Italian browser and moves between tabs with the arrow keys', async () => {
    mockFetch({ 'GET /v1/projects': { status: 200, body: ROWS }, 'GET /v1/health': { status: 200, body: {} },
      'GET /metrics': { status: 200, body: null, text: '' } });
    render(<App lang="it" />);
    const tabs = screen.getAllByRole('tab');
    expect(tabs.map((t) => t.textContent)).toEqual(['Progetti', 'Simulatore', 'Flusso', 'Stato']);
    expect(tabs[0]).toHaveAttribute('aria-selected', 'true');
    tabs[0].focus();
    await userEvent.keyboard('{ArrowRight}');
    expect(screen.getByRole('tab', { name: 'Simulatore' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: 'Simulatore' })).toHaveFocus();
    await userEvent.keyboard('{End}');
    expect(screen.getByRole('tab', { name: 'Stato' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByRole('heading', { name: 'Stato del servizio' })).toBeInTheDocument();
  });

  it('shows a message, not a blank screen, when the server cannot be reached', async () => {
    globalThis.fetch = vi.fn(async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch;
    render(<App lang="en" />);
    expect(await screen.findByRole('alert')).toHaveTextContent('The server cannot be reached. Is nginx running?');
  });
});
