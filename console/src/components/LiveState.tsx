/* LiveState.tsx: the Live state panel beside the chat: session version and
 * status, what the engine expects, the current flow node, every data item
 * with its state and counters against its limits, memory as a tree with
 * values formatted by kind and their $meta, and the last raw answer. */
import { useI18n } from '../i18n';
import { COUNTERS, formatValue, itemsOf, kindAt, limitsOf } from '../dialogue';
import type { ProjectFile } from '../types';
import type { Simulator } from '../useSimulator';

function MetaNote({ meta }: { meta: any }) {
  const { t } = useI18n();
  if (!meta || typeof meta !== 'object') return null;
  return (
    <span className="meta">
      {meta.state && <span className={`pill state-${meta.state}`}>{meta.state}</span>}
      {typeof meta.confidence === 'number' && <span className="muted"> {t('confidence')} {meta.confidence}</span>}
      {meta.layer && <span className="muted"> · {t('layer')} {meta.layer}</span>}
    </span>
  );
}

function Tree({ value, path, project, locale, meta }: {
  value: unknown; path: string[]; project: ProjectFile | null; locale: string; meta?: any;
}) {
  const name = path[path.length - 1];
  const ddt = path[0];
  const kind = path.length === 2 ? kindAt(project, ddt, path[1]) : path.length === 3 ? kindAt(project, ddt, path[1], path[2]) : undefined;
  const isObj = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isObj && !(kind && kind !== 'composite')) {
    const o = value as Record<string, unknown>;
    const childMeta = (o.$meta ?? null) as Record<string, any> | null;
    const keys = Object.keys(o).filter((k) => k !== '$meta');
    return (
      <li>
        <details open>
          <summary><span className="key">{name}</span> <MetaNote meta={meta} /></summary>
          <ul>
            {keys.map((k) => (
              <Tree key={k} value={o[k]} path={[...path, k]} project={project} locale={locale}
                    meta={childMeta?.[k] ?? meta?.sub?.[k]} />
            ))}
          </ul>
        </details>
      </li>
    );
  }
  return (
    <li data-path={path.join('.')}>
      <span className="key">{name}</span>: <span className="val">{formatValue(value, kind, locale)}</span>
      {kind && <span className="muted"> ({kind})</span>} <MetaNote meta={meta} />
    </li>
  );
}

export function LiveState({ sim }: { sim: Simulator }) {
  const { t } = useI18n();
  const s = sim.session;
  const locale = sim.locale || sim.source?.locale || 'it-IT';
  const exp = s ? s.expecting : sim.last?.expecting ?? null;
  const memory = s?.memory ?? {};
  const ddts = sim.source ? Object.keys(sim.source.ddts ?? {}) : [];
  const metaOf = (ddt: string) => ((memory[ddt] as any)?.$meta ?? {}) as Record<string, any>;

  return (
    <aside className="live" aria-labelledby="live-h">
      <h2 id="live-h">{t('liveTitle')}</h2>
      {!sim.last ? <p className="muted">{t('noSession')}</p> : (
        <>
          <dl className="facts">
            <div><dt>{t('sessionId')}</dt><dd><code>{sim.last.sessionId}</code></dd></div>
            <div><dt>{t('version')}</dt><dd data-testid="session-version">{s?.version ?? sim.last.version}</dd></div>
            <div><dt>{t('statusLabel')}</dt><dd data-testid="session-status">{s?.status ?? sim.last.status}</dd></div>
            <div><dt>{t('currentNode')}</dt><dd data-testid="current-node">{sim.currentNode ?? '—'}</dd></div>
            <div>
              <dt>{t('expecting')}</dt>
              <dd data-testid="expecting">
                {exp ? `${exp.ddt}.${exp.data}${exp.sub ? `.${exp.sub}` : ''} · ${exp.step} · ${exp.kind ?? ''} · #${exp.escalation ?? ''}` : t('nothingExpected')}
              </dd>
            </div>
          </dl>

          {sim.source && ddts.map((d) => (
            <section key={d} aria-label={`${t('items')} ${d}`}>
              <h3>{t('items')}: {d}</h3>
              <table className="grid items">
                <caption className="sr-only">{t('counters')}</caption>
                <thead>
                  <tr>
                    <th scope="col">id</th><th scope="col">{t('state')}</th>
                    {COUNTERS.map((c) => <th scope="col" key={c}>{c}</th>)}
                  </tr>
                </thead>
                <tbody>
                  {itemsOf(sim.source!, d).map((it) => {
                    const meta = it.sub ? metaOf(d)[it.parent!.id]?.sub?.[it.sub] : metaOf(d)[it.node.id];
                    const lim = limitsOf(it.node, it.parent);
                    const cnt = sim.counters[it.key];
                    const active = exp && `${exp.ddt}.${exp.data}${exp.sub ? `.${exp.sub}` : ''}` === it.key;
                    return (
                      <tr key={it.key} data-item={it.key} className={active ? 'active' : undefined}>
                        <th scope="row">{it.sub ? `↳ ${it.sub}` : it.node.id}</th>
                        <td data-state={meta?.state ?? 'idle'}>{meta?.state ?? 'idle'}</td>
                        {COUNTERS.map((c) => {
                          const n = cnt?.[c] ?? 0;
                          return (
                            <td key={c} data-counter={c} className={n > lim[c] ? 'over' : n > 0 ? 'some' : undefined}>
                              {n}/{lim[c]}
                            </td>
                          );
                        })}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ))}
          <p className="muted small">{t('counters')}</p>

          <section aria-labelledby="mem-h">
            <h3 id="mem-h">{t('memory')}</h3>
            <ul className="tree" data-testid="memory">
              {Object.keys(memory).map((k) => (
                <Tree key={k} value={memory[k]} path={[k]} project={sim.source} locale={locale} />
              ))}
            </ul>
          </section>

          <details className="raw">
            <summary>{t('rawJson')}</summary>
            <pre tabIndex={0} data-testid="raw-json">{JSON.stringify(sim.last, null, 2)}</pre>
          </details>
        </>
      )}
    </aside>
  );
}
