/* logic.test.ts: the console's pure parts against the SPEC's rules: JSON
 * paths located in a file, metrics figures, counters derived from prompts,
 * the flow position, values formatted by kind, errors in words. */
import { describe, expect, it } from 'vitest';
import { indexSpans, linesOfPath, pathSegments } from './jsonpath';
import { figures, parseMetrics, quantile, rate } from './metrics';
import { applyTurn, formatValue, itemStates, walkNodes, type Counters } from './dialogue';
import { ApiError, explainError } from './api';
import { makeT, pickLang } from './i18n';
import type { ProjectFile, TurnResponse } from './types';

const SRC = `{
  "name": "p",
  "flow": {
    "start": "a",
    "nodes": [ { "id": "a", "tasks": [] } ],
    "edges": [
      { "from": "a", "to": "ghost" },
      { "from": "a",
        "to": "b", "condition": "x ==" }
    ]
  },
  "ddts": { "d": { "data": [ { "id": "n", "steps": { "start": ["Q?"] } } ] } }
}`;

describe('compile error paths in the file', () => {
  it('splits dotted and indexed paths', () => {
    expect(pathSegments('flow.edges[1].to')).toEqual(['flow', 'edges', 1, 'to']);
    expect(pathSegments('ddts.d.data[0].steps.start[0]')).toEqual(['ddts', 'd', 'data', 0, 'steps', 'start', 0]);
  });
  it('finds the line of a field, of an array element and falls back to the nearest parent', () => {
    const spans = indexSpans(SRC);
    expect(linesOfPath(SRC, spans, 'flow.edges[0].to')).toEqual([7, 7]);
    expect(linesOfPath(SRC, spans, 'flow.edges[1].condition')).toEqual([9, 9]);
    expect(linesOfPath(SRC, spans, 'ddts.d.data[0].steps.start[0]')).toEqual([12, 12]);
    // a path below what exists (a column inside an expression) marks its field
    expect(linesOfPath(SRC, spans, 'flow.edges[1].condition.col')).toEqual([9, 9]);
  });
  it('keeps what it found in a file that is not valid JSON', () => {
    const bad = '{\n "name": "p",\n "flow": {\n  "start": 1,\n  oops }';
    const spans = indexSpans(bad);
    expect(linesOfPath(bad, spans, 'name')).toEqual([2, 2]);
  });
});

const M1 = `# HELP ddt_turns_total x
ddt_turns_total{kind="create",status="waiting"} 2
ddt_turns_total{kind="turn",status="waiting"} 8
ddt_turn_duration_seconds_bucket{le="0.001"} 5
ddt_turn_duration_seconds_bucket{le="0.01"} 9
ddt_turn_duration_seconds_bucket{le="+Inf"} 10
ddt_turn_duration_seconds_count 10
ddt_sessions 3
ddt_errors_total{code="conflict"} 1
ddt_errors_total{code="bad_json"} 2
ddt_store_errors_total 0
`;

describe('metrics', () => {
  it('reads counters, gauges and the histogram', () => {
    const f = figures(parseMetrics(M1));
    expect(f.turnsTotal).toBe(10);
    expect(f.sessions).toBe(3);
    expect(f.errors).toBe(3);
    expect(quantile(f, null, 0.5)).toBe(0.001);
    expect(quantile(f, null, 0.99)).toBe(Infinity);
  });
  it('turns per second and p99 over the interval between two samples', () => {
    const a = figures(parseMetrics(M1));
    const b = figures(parseMetrics(M1.replace('} 8', '} 28').replace('"0.001"} 5', '"0.001"} 25')
      .replace('"0.01"} 9', '"0.01"} 29').replace('"+Inf"} 10', '"+Inf"} 30').replace('_count 10', '_count 30')));
    expect(rate(b, a, 4)).toBe(5);
    expect(quantile(b, a, 0.99)).toBe(0.001);
    expect(rate(b, null, 4)).toBeNull();
  });
});

const resp = (messages: TurnResponse['messages'], expecting: TurnResponse['expecting'], status: TurnResponse['status'] = 'waiting'): TurnResponse =>
  ({ sessionId: 's', version: 1, status, messages, actions: [], expecting });
const exp = (data: string, step: string, escalation = 1, kind = 'date') => ({ ddt: 'c', data, sub: null, step, kind, escalation });
const msg = (data: string, step: string, escalation = 1) => ({ text: '…', ddt: 'c', data, sub: null, step, escalation });

describe('counters derived from the prompts (SPEC 9.1, 9.3)', () => {
  it('a noMatch re-prompt says the counter after the +1', () => {
    let c = applyTurn({}, null, null, resp([msg('b', 'start')], exp('b', 'start')), {});
    c = applyTurn(c, exp('b', 'start'), { event: 'noMatch' }, resp([msg('b', 'noMatch', 1)], exp('b', 'noMatch', 1)), {});
    c = applyTurn(c, exp('b', 'noMatch', 1), { text: 'boh' }, resp([msg('b', 'noMatch', 2)], exp('b', 'noMatch', 2)), {});
    expect(c['c.b'].noMatch).toBe(2);
  });
  it('a correction while confirming counts notConfirmed; a noMatch there counts noMatch', () => {
    const conf = exp('b', 'confirmation', 1, 'yesno');
    let c = applyTurn({}, conf, { text: 'no, il giorno è 13' }, resp([msg('b', 'confirmation', 1)], conf), {});
    expect(c['c.b'].notConfirmed).toBe(1);
    c = applyTurn(c, conf, { text: 'boh' }, resp([msg('b', 'confirmation', 2)], exp('b', 'confirmation', 2, 'yesno')), {});
    expect(c['c.b'].noMatch).toBe(1);
    expect(c['c.b'].notConfirmed).toBe(1);
  });
  it('the event that exhausts (no prompt) is counted; filling resets', () => {
    let c: Record<string, Counters> = { 'c.b': { noMatch: 3, noInput: 0, notConfirmed: 0, invalid: 0 } };
    c = applyTurn(c, exp('b', 'noMatch', 3), { event: 'noMatch' }, resp([], null, 'transferred'), { 'c.b': 'exhausted' });
    expect(c['c.b'].noMatch).toBe(4);
    c = applyTurn(c, exp('b', 'noMatch', 3), { text: '12 marzo 1980' }, resp([msg('n', 'start')], exp('n', 'start')), { 'c.b': 'filled' });
    expect(c['c.b'].noMatch).toBe(0);
  });
  it('reads item states from $meta, sub-data included', () => {
    const mem = { c: { $meta: { b: { state: 'confirming', sub: { day: { state: 'filled' } } } } } };
    expect(itemStates(mem, null)).toEqual({ 'c.b': 'confirming', 'c.b.day': 'filled' });
  });
});

const PROJ: ProjectFile = {
  name: 'p',
  flow: {
    start: 'w',
    nodes: [
      { id: 'w', tasks: [{ type: 'SayMessage', text: 'hi' }, { type: 'GetData', ddt: 'c' }] },
      { id: 'm', tasks: [{ type: 'SayMessage', text: 'ok' }, { type: 'GetData', ddt: 'r' }] },
      { id: 'op', tasks: [{ type: 'TransferToOperator', queue: 'q' }] },
    ],
    edges: [{ from: 'w', to: 'm' }, { from: 'm', to: 'op' }],
  },
  ddts: { c: { data: [] }, r: { data: [] } },
};

describe('where the conversation is in the flow', () => {
  it('follows flow texts and the node that runs the DDT being asked', () => {
    expect(walkNodes(PROJ, null, [{ text: 'hi', node: 'w' }, msg('x', 'start')], exp('x', 'start'))).toEqual(['w']);
    const r = walkNodes(PROJ, 'w', [{ text: 'ok', node: 'm' }, { text: 'Q', ddt: 'r', data: 'y', sub: null, step: 'start', escalation: 1 }],
      { ddt: 'r', data: 'y', sub: null, step: 'start' });
    expect(r).toEqual(['m']);
    expect(walkNodes(PROJ, 'w', [{ text: 'Q', ddt: 'r', data: 'y', sub: null, step: 'start', escalation: 1 }], null)).toEqual(['m']);
  });
  it('puts the silent nodes between two that spoke on the path', () => {
    const p: ProjectFile = { ...PROJ, flow: { ...PROJ.flow,
      nodes: [...PROJ.flow.nodes, { id: 'calc', tasks: [{ type: 'SetVariable', name: 'x', value: 1 }] }, { id: 'bye', tasks: [{ type: 'EndCall', text: 'bye' }] }],
      edges: [...PROJ.flow.edges, { from: 'm', to: 'calc', condition: 'x' }, { from: 'calc', to: 'bye' }] } };
    expect(walkNodes(p, 'm', [{ text: 'bye', node: 'bye' }], null)).toEqual(['calc', 'bye']);
  });
});

describe('values by kind (SPEC 9.6)', () => {
  it('formats dates, months, times, amounts and yes/no per locale', () => {
    expect(formatValue({ day: 12, month: 3, year: 1980 }, 'date', 'it-IT')).toBe('12 marzo 1980');
    expect(formatValue({ day: 1, month: 3, year: 1980 }, 'date', 'it-IT')).toBe('1º marzo 1980');
    expect(formatValue({ day: 12, month: 3, year: 1980 }, 'date', 'en-US')).toBe('March 12, 1980');
    expect(formatValue({ month: 3, year: 1980 }, 'date', 'en-US')).toBe('March 1980');
    expect(formatValue(3, 'month', 'it-IT')).toBe('marzo');
    expect(formatValue({ hour: 15, minute: 30 }, 'time', 'en-US')).toBe('3:30 PM');
    expect(formatValue({ hour: 15, minute: 30 }, 'time', 'it-IT')).toBe('15:30');
    expect(formatValue({ value: 50, currency: 'EUR' }, 'amount', 'it-IT')).toBe('50,00 €');
    expect(formatValue({ value: 50, currency: 'USD' }, 'amount', 'en-US')).toBe('$50.00');
    expect(formatValue(true, 'yesno', 'it-IT')).toBe('sì');
    expect(formatValue(48.5, 'number', 'it-IT')).toBe('48,5');
  });
});

describe('errors in words, in the browser language', () => {
  it('picks Italian for any it-* language, else English', () => {
    expect(pickLang(['it-IT', 'en'])).toBe('it');
    expect(pickLang(['de-DE', 'en-GB'])).toBe('en');
    expect(pickLang(['fr'])).toBe('en');
  });
  it('says what a 409, a 503, a 404 session and a lost server mean', () => {
    const en = makeT('en');
    const it_ = makeT('it');
    expect(explainError(new ApiError(409, 'conflict', 'x'), en)).toMatch(/Another turn on this session was in progress/);
    expect(explainError(new ApiError(409, 'conflict', 'x'), it_)).toMatch(/Era in corso un altro turno/);
    expect(explainError(new ApiError(503, 'store_unavailable', 'x'), en)).toMatch(/session store is unavailable/);
    expect(explainError(new ApiError(404, 'session_not_found', 'x'), en)).toMatch(/no longer exists/);
    expect(explainError(new ApiError(0, 'network', 'x'), en)).toMatch(/cannot be reached/);
    expect(explainError(new ApiError(410, 'session_closed', 'closed'), en)).toMatch(/closed/);
  });
});
