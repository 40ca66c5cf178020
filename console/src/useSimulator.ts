/* useSimulator.ts: the conversation the Simulator holds and the Flow and
 * Live state screens read: session, transcript, last answer, memory (GET
 * after every turn), derived counters and flow position, save and replay. */
import { useCallback, useRef, useState } from 'react';
import { api } from './api';
import { applyTurn, itemStates, walkNodes, type Counters } from './dialogue';
import type { Action, Message, ProjectFile, SessionInfo, TurnInput, TurnResponse } from './types';

export type Entry =
  | { kind: 'user'; input: TurnInput; id: number }
  | { kind: 'bot'; message: Message; id: number }
  | { kind: 'action'; action: Action; id: number }
  | { kind: 'failure'; code: string; message: string; id: number };

export interface SavedConversation {
  format: 'ddt-console-conversation/1';
  project: string;
  locale: string;
  variables: Record<string, unknown>;
  inputs: TurnInput[];
}

export interface Simulator {
  project: string;
  locale: string;
  variables: Record<string, unknown>;
  source: ProjectFile | null;
  sessionId: string | null;
  entries: Entry[];
  last: TurnResponse | null;
  session: SessionInfo | null;
  counters: Record<string, Counters>;
  path: string[];
  currentNode: string | null;
  inputs: TurnInput[];
  busy: boolean;
  error: unknown;
  start: (project: string, locale: string, variables: Record<string, unknown>) => Promise<boolean>;
  send: (input: TurnInput) => Promise<boolean>;
  restart: () => Promise<void>;
  replay: (conv: SavedConversation) => Promise<void>;
  saved: () => SavedConversation | null;
  clearError: () => void;
}

let seq = 0;

export function useSimulator(): Simulator {
  const [project, setProject] = useState('');
  const [locale, setLocale] = useState('');
  const [variables, setVariables] = useState<Record<string, unknown>>({});
  const [source, setSource] = useState<ProjectFile | null>(null);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [last, setLast] = useState<TurnResponse | null>(null);
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [counters, setCounters] = useState<Record<string, Counters>>({});
  const [path, setPath] = useState<string[]>([]);
  const [inputs, setInputs] = useState<TurnInput[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // the latest values for async chains (replay sends several turns)
  const ref = useRef({ sessionId: null as string | null, last: null as TurnResponse | null,
    counters: {} as Record<string, Counters>, path: [] as string[], source: null as ProjectFile | null });

  const absorb = useCallback(async (resp: TurnResponse, input: TurnInput | null) => {
    const r = ref.current;
    const before = r.last?.expecting ?? null;
    let info: SessionInfo | null = null;
    try { info = await api.session(resp.sessionId); } catch { info = null; }
    const states = itemStates(info?.memory, r.source);
    r.counters = input ? applyTurn(r.counters, before, input, resp, states) : applyTurn({}, null, null, resp, states);
    const cur = r.path.length ? r.path[r.path.length - 1] : null;
    const walked = walkNodes(r.source, cur, resp.messages, resp.expecting);
    r.path = [...r.path, ...walked.filter((n, i) => !(i === 0 && n === cur))];
    r.last = resp;
    r.sessionId = resp.sessionId;
    const add: Entry[] = [];
    if (input) add.push({ kind: 'user', input, id: ++seq });
    for (const m of resp.messages) add.push({ kind: 'bot', message: m, id: ++seq });
    for (const a of resp.actions) add.push({ kind: 'action', action: a, id: ++seq });
    if (resp.status === 'error' && resp.error) {
      add.push({ kind: 'failure', code: resp.error.code, message: resp.error.message, id: ++seq });
    }
    setEntries((e) => (input ? [...e, ...add] : add));
    setCounters(r.counters);
    setPath(r.path);
    setLast(resp);
    setSession(info);
    setSessionId(resp.sessionId);
  }, []);

  const start = useCallback(async (p: string, loc: string, vars: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    try {
      let src: ProjectFile | null = null;
      try { src = (await api.project(p)).source; } catch { src = null; }
      ref.current = { sessionId: null, last: null, counters: {}, path: [], source: src };
      setSource(src);
      setProject(p); setLocale(loc); setVariables(vars);
      const resp = await api.createSession(p, loc || undefined, vars);
      setInputs([]);
      await absorb(resp, null);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }, [absorb]);

  const send = useCallback(async (input: TurnInput) => {
    const id = ref.current.sessionId;
    if (!id) return false;
    setBusy(true);
    setError(null);
    try {
      const resp = await api.turn(id, input);
      setInputs((l) => [...l, input]);
      await absorb(resp, input);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  }, [absorb]);

  const restart = useCallback(async () => {
    if (!project) return;
    const old = ref.current.sessionId;
    if (old) api.deleteSession(old).catch(() => undefined);
    await start(project, locale, variables);
  }, [project, locale, variables, start]);

  const replay = useCallback(async (conv: SavedConversation) => {
    if (!(await start(conv.project, conv.locale, conv.variables ?? {}))) return;
    for (const input of conv.inputs) {
      if (ref.current.last?.status !== 'waiting') break;
      if (!(await send(input))) break;
    }
  }, [start, send]);

  const saved = useCallback((): SavedConversation | null => {
    if (!project) return null;
    return { format: 'ddt-console-conversation/1', project, locale, variables, inputs };
  }, [project, locale, variables, inputs]);

  return {
    project, locale, variables, source, sessionId, entries, last, session, counters, path,
    currentNode: path.length ? path[path.length - 1] : null,
    inputs, busy, error, start, send, restart, replay, saved, clearError: () => setError(null),
  };
}
