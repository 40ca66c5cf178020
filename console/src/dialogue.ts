/* dialogue.ts: what the console derives from the turn answers that the API
 * does not state outright: each data item's counters (from the escalation
 * of re-prompts, SPEC 9.1, and from repeated confirmations, 9.3/9.8), the
 * flow node the conversation is at (flow texts carry `node`; a DDT prompt
 * belongs to the node whose GetData runs that DDT), and values formatted
 * by kind for the memory tree. */
import type { DataNode, Expecting, Message, ProjectFile, TurnInput, TurnResponse } from './types';

export const COUNTERS = ['noMatch', 'noInput', 'notConfirmed', 'invalid'] as const;
export type Counter = typeof COUNTERS[number];
export type Counters = Record<Counter, number>;
export const DEFAULT_LIMITS: Counters = { noMatch: 3, noInput: 3, notConfirmed: 2, invalid: 3 };

export const itemKey = (ddt: string, data: string, sub?: string | null) =>
  sub ? `${ddt}.${data}.${sub}` : `${ddt}.${data}`;

const zero = (): Counters => ({ noMatch: 0, noInput: 0, notConfirmed: 0, invalid: 0 });

function isNoInput(input: TurnInput | null): boolean {
  if (!input) return false;
  if ('event' in input) return input.event === 'noInput';
  if ('text' in input) return input.text.trim() === '';
  return false;
}

/*
 * Apply one turn to the counters.  `before` is what the session expected
 * when the input was sent; `states` the items' states after the turn
 * (from the memory's $meta), used to reset filled items and to count the
 * event that exhausted one (it says no prompt).
 */
export function applyTurn(
  counters: Record<string, Counters>,
  before: Expecting | null,
  input: TurnInput | null,
  resp: TurnResponse,
  states: Record<string, string>,
): Record<string, Counters> {
  const next: Record<string, Counters> = {};
  for (const [k, v] of Object.entries(counters)) next[k] = { ...v };
  const get = (k: string) => (next[k] ??= zero());
  const reprompted = new Set<string>();
  let enteredDdt: string | null = null;
  for (const m of resp.messages) {
    if (!m.ddt || !m.data) { enteredDdt = null; continue; }
    const k = itemKey(m.ddt, m.data, m.sub);
    const c = get(k);
    if ((COUNTERS as readonly string[]).includes(m.step ?? '')) {
      c[m.step as Counter] = m.escalation ?? c[m.step as Counter] + 1;
      reprompted.add(k);
    } else if (m.step === 'confirmation' && before && before.step === 'confirmation'
               && itemKey(before.ddt, before.data, before.sub) === k) {
      // confirming again: a noMatch/noInput says the same list again at the
      // next escalation; a correction restarts it at 1 (SPEC 9.3, 9.8)
      if ((m.escalation ?? 1) > (before.escalation ?? 1)) {
        c[isNoInput(input) ? 'noInput' : 'noMatch'] += 1;
      } else {
        c.notConfirmed += 1;
      }
      reprompted.add(k);
    } else if (m.step === 'start' && (m.escalation ?? 1) === 1 && enteredDdt !== m.ddt
               && !(before && before.ddt === m.ddt)) {
      // a GetData entered: its counters start again (SPEC 9.1)
      for (const key of Object.keys(next)) if (key.startsWith(`${m.ddt}.`)) next[key] = zero();
      enteredDdt = m.ddt;
    }
  }
  if (before) {
    const k = itemKey(before.ddt, before.data, before.sub);
    const parent = itemKey(before.ddt, before.data);
    const st = states[parent];
    if (st === 'exhausted' && !reprompted.has(k)) {
      const c = get(k);
      if (input && 'event' in input && input.event === 'noInput') c.noInput += 1;
      else if (isNoInput(input)) c.noInput += 1;
      else if (before.step === 'confirmation') c.notConfirmed += 1;
      else c.noMatch += 1;
    }
  }
  for (const [k, st] of Object.entries(states)) {
    if (st === 'filled' && !reprompted.has(k)) next[k] = zero();
  }
  return next;
}

/* Items' states from memory: {"cliente.name": "filled", "cliente.birthDate.day": ...}. */
export function itemStates(memory: Record<string, unknown> | undefined, project: ProjectFile | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!memory) return out;
  const names = project ? Object.keys(project.ddts ?? {}) : Object.keys(memory);
  for (const d of names) {
    const meta = (memory[d] as { $meta?: Record<string, any> } | undefined)?.$meta;
    if (!meta || typeof meta !== 'object') continue;
    for (const [n, m] of Object.entries(meta)) {
      if (m && typeof m === 'object' && typeof m.state === 'string') out[`${d}.${n}`] = m.state;
      if (m?.sub && typeof m.sub === 'object') {
        for (const [s, sm] of Object.entries(m.sub as Record<string, any>)) {
          if (sm && typeof sm.state === 'string') out[`${d}.${n}.${s}`] = sm.state;
        }
      }
    }
  }
  return out;
}

export function limitsOf(node: DataNode, parent?: DataNode): Counters {
  return { ...DEFAULT_LIMITS, ...(parent?.limits ?? {}), ...(node.limits ?? {}) } as Counters;
}

/* Nodes whose tasks run GetData of `ddt`, in file order. */
export function nodesRunning(project: ProjectFile, ddt: string): string[] {
  return (project.flow?.nodes ?? [])
    .filter((n) => (n.tasks ?? []).some((t) => t.type === 'GetData' && t.ddt === ddt))
    .map((n) => n.id);
}

/* The nodes strictly between `from` and `to` on a shortest edge path
 * (none when an edge joins them or no path exists). */
export function between(project: ProjectFile, from: string, to: string): string[] {
  const prev = new Map<string, string>([[from, '']]);
  const queue = [from];
  while (queue.length) {
    const n = queue.shift()!;
    if (n === to) break;
    for (const e of project.flow?.edges ?? []) {
      if (e.from === n && !prev.has(e.to)) { prev.set(e.to, n); queue.push(e.to); }
    }
  }
  if (!prev.has(to)) return [];
  const out: string[] = [];
  for (let n = prev.get(to)!; n && n !== from; n = prev.get(n)!) out.unshift(n);
  return out;
}

/*
 * The nodes the messages went through, in order, starting from `current`.
 * A flow text names its node; a DDT prompt belongs to the current node if
 * it runs that DDT, else to the first node that runs it.
 */
export function walkNodes(project: ProjectFile | null, current: string | null, messages: Message[],
                          expecting: Expecting | null): string[] {
  const path: string[] = [];
  let cur = current;
  const push = (n: string) => {
    if (n === cur && path.length > 0) return;
    // nodes that say nothing (a BackendCall, a SetVariable) between two
    // that spoke: the shortest way along the edges
    if (project && cur && n !== cur) path.push(...between(project, cur, n));
    path.push(n);
    cur = n;
  };
  const viaDdt = (ddt: string) => {
    if (!project) return;
    const cands = nodesRunning(project, ddt);
    if (cur && cands.includes(cur)) { if (path.length === 0) path.push(cur); return; }
    if (cands.length) push(cands[0]);
  };
  for (const m of messages) {
    if (m.node) push(m.node);
    else if (m.ddt) viaDdt(m.ddt);
  }
  if (expecting) viaDdt(expecting.ddt);
  return path;
}

const MONTHS: Record<string, string[]> = {
  it: ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto',
       'settembre', 'ottobre', 'novembre', 'dicembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
       'September', 'October', 'November', 'December'],
};

/* A memory value in its kind's format for the session locale (SPEC 9.6). */
export function formatValue(v: unknown, kind: string | undefined, locale: string): string {
  const it = locale.toLowerCase().startsWith('it');
  const months = MONTHS[it ? 'it' : 'en'];
  if (v === null || v === undefined) return '∅';
  const o = v as Record<string, any>;
  switch (kind) {
    case 'date': {
      const m = o.month ? months[o.month - 1] : undefined;
      const parts = it ? [o.day === 1 ? '1º' : o.day, m, o.year] : [m && o.day ? `${m} ${o.day},` : m ?? o.day, o.year];
      return parts.filter((x) => x !== undefined && x !== null).join(' ').replace(/,$/, '');
    }
    case 'month':
      return typeof v === 'number' ? months[v - 1] ?? String(v) : String(v);
    case 'time': {
      const h = o.hour ?? 0, mi = String(o.minute ?? 0).padStart(2, '0');
      if (it) return `${String(h).padStart(2, '0')}:${mi}`;
      return `${h % 12 === 0 ? 12 : h % 12}:${mi} ${h < 12 ? 'AM' : 'PM'}`;
    }
    case 'yesno':
      return v === true ? (it ? 'sì' : 'yes') : 'no';
    case 'amount': {
      const n = Number(o.value ?? 0);
      if (it) return `${n.toFixed(2).replace('.', ',')} ${o.currency === 'EUR' ? '€' : o.currency}`;
      return o.currency === 'USD' ? `$${n.toFixed(2)}` : `${n.toFixed(2)} ${o.currency}`;
    }
    case 'number':
      return typeof v === 'number' && it ? String(v).replace('.', ',') : String(v);
    default:
      if (typeof v === 'string') return v;
      if (typeof v === 'object') return JSON.stringify(v);
      return String(v);
  }
}

/* kind of memory path "ddt.node" per the project, if a data node. */
export function kindAt(project: ProjectFile | null, ddt: string, data: string, sub?: string): string | undefined {
  const n = project?.ddts?.[ddt]?.data?.find((d) => d.id === data);
  if (!n) return undefined;
  if (!sub) return n.kind ?? 'text';
  const s = n.subData?.find((x) => x.id === sub);
  if (s) return s.kind ?? 'text';
  if ((n.kind ?? 'text') === 'date') return sub === 'month' ? 'month' : 'integer';
  return undefined;
}

/* The items of a DDT: main nodes and their sub-data (date's implicit ones). */
export function itemsOf(project: ProjectFile, ddt: string): { key: string; node: DataNode; parent?: DataNode; sub?: string }[] {
  const out: { key: string; node: DataNode; parent?: DataNode; sub?: string }[] = [];
  for (const n of project.ddts?.[ddt]?.data ?? []) {
    out.push({ key: itemKey(ddt, n.id), node: n });
    let subs = n.subData ?? [];
    if (!subs.length && n.kind === 'date') {
      subs = [{ id: 'day', kind: 'integer' }, { id: 'month', kind: 'month' }, { id: 'year', kind: 'integer' }];
    }
    for (const s of subs) out.push({ key: itemKey(ddt, n.id, s.id), node: s, parent: n, sub: s.id });
  }
  return out;
}
