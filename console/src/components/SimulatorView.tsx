/* SimulatorView.tsx: the Simulator screen: start a session (project,
 * locale, initial variables), talk (text, noInput/noMatch, DTMF keys),
 * chat bubbles tagged with each prompt's origin, action cards, restart,
 * save and replay; the Live state panel beside the chat. */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { useI18n, type Key } from '../i18n';
import type { Action, Message, ProjectRow, TurnInput } from '../types';
import type { SavedConversation, Simulator } from '../useSimulator';
import { ErrorBanner } from './ErrorBanner';
import { LiveState } from './LiveState';

const SAVE_KEY = 'ddt-console.saved-conversation';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export function Bubble({ m }: { m: Message }) {
  const { t } = useI18n();
  const isPrompt = !!m.ddt;
  return (
    <li className={`bubble bot ${isPrompt ? `step-${m.step}` : 'flow'}`} data-step={m.step} data-data={m.data}>
      <span className="sr-only">{t('botSaid')}: </span>
      <p>{m.text}</p>
      <p className="tags">
        {isPrompt ? (
          <>
            <span className="tag" title="ddt">{m.ddt}</span>
            <span className="tag" title="data">{m.data}{m.sub ? `.${m.sub}` : ''}</span>
            <span className="tag step" title="step">{m.step}</span>
            <span className="tag" title="escalation">#{m.escalation}</span>
          </>
        ) : (
          m.node && <span className="tag" title="node">⬡ {m.node}</span>
        )}
      </p>
    </li>
  );
}

export function inputText(input: TurnInput): string {
  if ('text' in input) return input.text;
  if ('dtmf' in input) return `DTMF ${input.dtmf}`;
  if ('event' in input) return `⟨${input.event}⟩`;
  return JSON.stringify(input.values);
}

export function ActionCard({ a }: { a: Action }) {
  const { t } = useI18n();
  const title: Record<string, Key> = {
    transfer: 'actionTransfer', endCall: 'actionEnd', sendSMS: 'actionSms',
    sendEmail: 'actionEmail', custom: 'actionCustom',
  };
  const rows: [string, string][] = [];
  if (a.type === 'transfer') rows.push([t('queue'), String(a.queue ?? '')]);
  if (a.type === 'sendSMS') rows.push([t('to'), String(a.to ?? '')], ['SMS', String(a.text ?? '')]);
  if (a.type === 'sendEmail') rows.push([t('to'), String(a.to ?? '')], [t('subject'), String(a.subject ?? '')], ['', String(a.body ?? '')]);
  if (a.type === 'custom') rows.push(['name', String(a.name ?? '')], [t('params'), JSON.stringify(a.params, null, 1)]);
  return (
    <li className={`card action-${a.type}`} data-action={a.type} aria-label={t(title[a.type] ?? 'actionCustom')}>
      <strong>{t(title[a.type] ?? 'actionCustom')}</strong>
      {rows.length > 0 && (
        <dl>
          {rows.map(([k, v], i) => (
            <div key={i}><dt>{k}</dt><dd>{v}</dd></div>
          ))}
        </dl>
      )}
    </li>
  );
}

export function SimulatorView({ sim, onProjectChange }: { sim: Simulator; onProjectChange?: (p: string) => void }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<ProjectRow[]>([]);
  const [listError, setListError] = useState<unknown>(null);
  const [project, setProject] = useState(sim.project);
  const [locale, setLocale] = useState(sim.locale);
  const [vars, setVars] = useState(JSON.stringify(sim.variables ?? {}) === '{}' ? '' : JSON.stringify(sim.variables));
  const [varsError, setVarsError] = useState('');
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const endRef = useRef<HTMLLIElement>(null);
  const replayRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    api.projects().then((r) => {
      const cur = r.filter((x) => x.current);
      setRows(cur);
      if (!project && cur.length) setProject(cur[0].name);
    }).catch(setListError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => { endRef.current?.scrollIntoView?.({ block: 'nearest' }); }, [sim.entries.length]);
  // the caller's field gets the focus back once a turn is over (it is
  // disabled while the turn runs, and a disabled field cannot take it)
  const [focusWanted, setFocusWanted] = useState(0);
  useEffect(() => {
    if (focusWanted && !sim.busy) inputRef.current?.focus();
  }, [focusWanted, sim.busy]);

  const parseVars = (): Record<string, unknown> | null => {
    if (!vars.trim()) return {};
    try {
      const v = JSON.parse(vars);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch { /* below */ }
    return null;
  };

  const onStart = async (e: React.FormEvent) => {
    e.preventDefault();
    const v = parseVars();
    if (v === null) { setVarsError(t('badVariables')); return; }
    setVarsError('');
    setNote('');
    onProjectChange?.(project);
    if (await sim.start(project, locale, v)) setFocusWanted((n) => n + 1);
  };

  const say = async (input: TurnInput) => {
    if (await sim.send(input)) {
      if ('text' in input) setText('');
      setFocusWanted((n) => n + 1);
    }
  };

  const onSave = () => {
    const c = sim.saved();
    if (!c) return;
    localStorage.setItem(SAVE_KEY, JSON.stringify(c));
    setNote(t('saved', { n: c.inputs.length }));
    const url = URL.createObjectURL?.(new Blob([JSON.stringify(c, null, 2)], { type: 'application/json' }));
    if (url) {
      const a = document.createElement('a');
      a.href = url;
      a.download = `conversation-${c.project}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
  };

  const replay = async (c: SavedConversation) => {
    setNote(t('replaying'));
    setProject(c.project);
    setLocale(c.locale);
    setVars(JSON.stringify(c.variables ?? {}) === '{}' ? '' : JSON.stringify(c.variables));
    onProjectChange?.(c.project);
    await sim.replay(c);
    setNote('');
  };

  const onReplayFile = async (f: File) => {
    try {
      const c = JSON.parse(await f.text()) as SavedConversation;
      if (!c || typeof c.project !== 'string' || !Array.isArray(c.inputs)) throw new Error('format');
      await replay(c);
    } catch (e) {
      setNote(t('notJson', { msg: (e as Error).message }));
    }
  };

  const lastSaved = typeof localStorage !== 'undefined' ? localStorage.getItem(SAVE_KEY) : null;
  const waiting = sim.last?.status === 'waiting';
  const statusWord: Record<string, Key> = {
    waiting: 'statusWaiting', ended: 'statusEnded', transferred: 'statusTransferred', error: 'statusError',
  };

  return (
    <div className="screen simulator">
      <div className="sim-main">
        <h2>{t('simTitle')}</h2>
        <ErrorBanner error={listError} />
        <form className="start" onSubmit={onStart} aria-label={t('start')}>
          <div className="field">
            <label htmlFor="sim-project">{t('project')}</label>
            <select id="sim-project" value={project} onChange={(e) => setProject(e.target.value)} name="project">
              {rows.map((r) => <option key={r.name} value={r.name}>{r.name} ({r.version})</option>)}
              {project && !rows.some((r) => r.name === project) && <option value={project}>{project}</option>}
            </select>
          </div>
          <div className="field">
            <label htmlFor="sim-locale">{t('locale')}</label>
            <select id="sim-locale" value={locale} onChange={(e) => setLocale(e.target.value)} name="locale">
              <option value="">{t('localeDefault')}</option>
              <option value="it-IT">it-IT</option>
              <option value="en-US">en-US</option>
            </select>
          </div>
          <label className="grow">
            {t('variables')}
            <input value={vars} onChange={(e) => setVars(e.target.value)} placeholder='{"canale": "web"}'
                   aria-invalid={!!varsError} aria-describedby={varsError ? 'vars-err' : undefined} />
          </label>
          <button type="submit" disabled={!project || sim.busy}>{t('start')}</button>
        </form>
        {varsError && <p id="vars-err" className="banner error" role="alert">{varsError}</p>}
        <div className="row tools">
          <button type="button" onClick={() => void sim.restart()} disabled={!sim.sessionId || sim.busy}>{t('restart')}</button>
          <button type="button" onClick={onSave} disabled={!sim.sessionId}>{t('saveConv')}</button>
          <button type="button" disabled={!lastSaved || sim.busy}
                  onClick={() => lastSaved && void replay(JSON.parse(lastSaved))}>{t('replayLast')}</button>
          <label className="button">
            {t('replayConv')}
            <input ref={replayRef} type="file" accept=".json,application/json" className="visually-hidden-input"
                   onChange={(e) => { const f = e.target.files?.[0]; if (f) void onReplayFile(f); e.target.value = ''; }} />
          </label>
          {note && <span role="status">{note}</span>}
        </div>

        <ErrorBanner error={sim.error} onDismiss={sim.clearError} />

        <section aria-labelledby="transcript-h" className="chat">
          <h3 id="transcript-h">{t('transcript')}</h3>
          {!sim.sessionId && <p>{t('noSession')}</p>}
          <ol className="bubbles" aria-live="polite" aria-relevant="additions" aria-labelledby="transcript-h" tabIndex={0}>
            {sim.entries.map((e) => {
              if (e.kind === 'user') {
                return (
                  <li key={e.id} className="bubble user">
                    <span className="sr-only">{t('youSaid')}: </span><p>{inputText(e.input)}</p>
                  </li>
                );
              }
              if (e.kind === 'bot') return <Bubble key={e.id} m={e.message} />;
              if (e.kind === 'action') return <ActionCard key={e.id} a={e.action} />;
              return (
                <li key={e.id} className="card failure" role="alert">
                  {t('dialogError', { code: e.code, message: e.message })}
                </li>
              );
            })}
            <li ref={endRef} aria-hidden="true" className="end" />
          </ol>
          {sim.last && (
            <p className={`status status-${sim.last.status}`} data-status={sim.last.status}>
              {t('sessionStatus', { status: t(statusWord[sim.last.status] ?? 'statusError') })}
            </p>
          )}
        </section>

        <form className="say" onSubmit={(e) => { e.preventDefault(); void say({ text }); }}>
          <label className="grow">
            {t('say')}
            <input ref={inputRef} value={text} onChange={(e) => setText(e.target.value)}
                   disabled={!waiting || sim.busy} autoComplete="off" name="say" />
          </label>
          <button type="submit" disabled={!waiting || sim.busy}>{t('send')}</button>
          <button type="button" disabled={!waiting || sim.busy} onClick={() => void say({ event: 'noInput' })}>{t('noInput')}</button>
          <button type="button" disabled={!waiting || sim.busy} onClick={() => void say({ event: 'noMatch' })}>{t('noMatch')}</button>
        </form>
        <fieldset className="keypad" disabled={!waiting || sim.busy}>
          <legend>{t('dtmf')}</legend>
          {KEYS.map((k) => (
            <button type="button" key={k} aria-label={t('dtmfKey', { k })} onClick={() => void say({ dtmf: k })}>{k}</button>
          ))}
        </fieldset>
      </div>
      <LiveState sim={sim} />
    </div>
  );
}
