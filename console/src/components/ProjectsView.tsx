/* ProjectsView.tsx: the Projects screen: loaded projects (GET
 * /v1/projects), loading a file by drag and drop or picker through the
 * admin location (PUT /v1/projects/{name}), compile errors at their JSON
 * path in a read-only view of the file, warnings. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api';
import { useI18n } from '../i18n';
import type { CompileError, ProjectRow } from '../types';
import { ErrorBanner } from './ErrorBanner';
import { SourceView, locateAll, type Located } from './SourceView';

interface Outcome {
  fileName: string;
  text: string;
  ok?: string;
  warnings: (CompileError | string)[];
  located: Located[];
  error?: unknown;
  localError?: string;
}

export function ProjectsView({ onLoaded }: { onLoaded?: () => void }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<ProjectRow[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [drag, setDrag] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);

  const refresh = useCallback(async () => {
    try {
      setRows(await api.projects());
      setListError(null);
    } catch (e) {
      setListError(e);
    }
  }, []);

  useEffect(() => { void refresh(); }, [refresh]);

  const load = useCallback(async (file: File) => {
    setBusy(true);
    const text = await file.text();
    const base: Outcome = { fileName: file.name, text, warnings: [], located: [] };
    let name: string | undefined;
    try {
      name = JSON.parse(text)?.name;
    } catch (e) {
      setOutcome({ ...base, localError: t('notJson', { msg: (e as Error).message }) });
      setBusy(false);
      return;
    }
    if (typeof name !== 'string' || !name) {
      setOutcome({ ...base, localError: t('noName') });
      setBusy(false);
      return;
    }
    try {
      const { status, result } = await api.putProject(name, text);
      const v = { name: result.name, version: result.version, checksum: result.checksum };
      const warnings = result.warnings ?? [];
      const located = locateAll(text, warnings.filter((w): w is CompileError => typeof w === 'object'));
      setOutcome({ ...base, ok: status === 200 ? t('loadedSame', v) : t('loadedOk', v), warnings, located });
      await refresh();
      onLoaded?.();
    } catch (e) {
      const errs = e instanceof ApiError ? e.errors : [];
      setOutcome({ ...base, error: e, located: locateAll(text, errs) });
    } finally {
      setBusy(false);
    }
  }, [t, refresh, onLoaded]);

  // the current load's file as the server keeps it (admin GET)
  const view = useCallback(async (name: string) => {
    try {
      const d = await api.project(name);
      setOutcome({ fileName: `${d.name} ${d.version} (${d.checksum})`, text: JSON.stringify(d.source, null, 2), warnings: [], located: [] });
    } catch (e) {
      setOutcome({ fileName: name, text: '', warnings: [], located: [], error: e });
    }
  }, []);

  const onDrop = (ev: React.DragEvent) => {
    ev.preventDefault();
    setDrag(false);
    const f = ev.dataTransfer.files?.[0];
    if (f) void load(f);
  };

  const fmtDate = (s: string) => {
    const d = new Date(s);
    return isNaN(d.getTime()) ? s : d.toLocaleString();
  };

  return (
    <div className="screen projects">
      <section aria-labelledby="projects-h">
        <div className="row">
          <h2 id="projects-h">{t('projectsTitle')}</h2>
          <button type="button" onClick={() => void refresh()}>{t('refresh')}</button>
        </div>
        <ErrorBanner error={listError} />
        {rows === null && !listError && <p>{t('loading')}</p>}
        {rows && rows.length === 0 && <p>{t('noProjects')}</p>}
        {rows && rows.length > 0 && (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">{t('colName')}</th><th scope="col">{t('colVersion')}</th>
                <th scope="col">{t('colChecksum')}</th><th scope="col">{t('colLoadedAt')}</th>
                <th scope="col">{t('colSize')}</th><th scope="col">{t('colCurrent')}</th>
                <th scope="col"><span className="sr-only">{t('viewSource')}</span></th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.name}:${r.checksum}`} data-project={r.name}>
                  <th scope="row">{r.name}</th><td>{r.version}</td>
                  <td><code>{r.checksum}</code></td><td>{fmtDate(r.loadedAt)}</td>
                  <td>{r.size}</td><td>{r.current ? t('yes') : t('no')}</td>
                  <td>
                    {r.current && (
                      <button type="button" className="link" onClick={() => void view(r.name)}
                              aria-label={`${t('viewSource')}: ${r.name}`}>{t('viewSource')}</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="load-h">
        <h2 id="load-h">{t('loadTitle')}</h2>
        <div className={drag ? 'drop active' : 'drop'} data-testid="dropzone"
             onDragOver={(e) => { e.preventDefault(); setDrag(true); }}
             onDragLeave={() => setDrag(false)} onDrop={onDrop}>
          <p>{t('dropHint')}</p>
          <label className="button">
            {t('chooseFile')}
            <input ref={fileRef} type="file" accept=".json,application/json" className="visually-hidden-input"
                   onChange={(e) => { const f = e.target.files?.[0]; if (f) void load(f); e.target.value = ''; }} />
          </label>
          {busy && <p role="status">{t('loading')}</p>}
        </div>

        {outcome && (
          <div className="outcome" aria-live="polite">
            {outcome.ok && <div className="banner ok" role="status">{outcome.ok}</div>}
            {outcome.localError && <div className="banner error" role="alert">{outcome.localError}</div>}
            {outcome.error != null && (
              outcome.error instanceof ApiError && outcome.error.errors.length ? (
                <div className="banner error" role="alert">
                  {t('compileErrors', { n: outcome.error.errors.length })}
                </div>
              ) : <ErrorBanner error={outcome.error} />
            )}
            {outcome.located.length > 0 && outcome.error != null && (
              <ol className="errors" aria-label={t('compileErrors', { n: outcome.located.length })}>
                {outcome.located.map((l) => (
                  <li key={l.index}>
                    <a href={l.lines ? `#src-line-${l.lines[0]}` : undefined} className="err-path"
                       onClick={(e) => {
                         e.preventDefault();
                         if (l.lines) document.getElementById(`src-line-${l.lines[0]}`)?.scrollIntoView({ block: 'center' });
                       }}>
                      <code>{l.err.path || '(root)'}</code>
                    </a>
                    {l.lines && <span className="muted"> · {t('errorAtLine', { line: l.lines[0] })}</span>}
                    <span>: {l.err.message}</span>
                  </li>
                ))}
              </ol>
            )}
            {outcome.warnings.length > 0 && (
              <section aria-label={t('warnings')} className="warnings">
                <h3>{t('warnings')}</h3>
                <ul>
                  {outcome.warnings.map((w, i) => (
                    <li key={i}>{typeof w === 'string' ? w : <><code>{w.path}</code>: {w.message}</>}</li>
                  ))}
                </ul>
              </section>
            )}
            {outcome.text && <SourceView text={outcome.text} located={outcome.located} label={`${t('sourceView')}: ${outcome.fileName}`} />}
          </div>
        )}
      </section>
    </div>
  );
}
