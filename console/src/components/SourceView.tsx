/* SourceView.tsx: a read-only, line-numbered view of a project file with
 * the lines of each compile error marked; selecting an error in the list
 * scrolls to its line. */
import { useMemo } from 'react';
import { indexSpans, linesOfPath } from '../jsonpath';
import type { CompileError } from '../types';
import { useI18n } from '../i18n';

export interface Located { err: CompileError; lines: [number, number] | null; index: number }

export function locateAll(text: string, errors: CompileError[]): Located[] {
  const spans = indexSpans(text);
  return errors.map((err, index) => ({ err, index, lines: err.path ? linesOfPath(text, spans, err.path) : null }));
}

export function SourceView({ text, located, label }: { text: string; located: Located[]; label: string }) {
  const { t } = useI18n();
  const marks = useMemo(() => {
    const m = new Map<number, Located[]>();
    for (const l of located) {
      if (!l.lines) continue;
      for (let n = l.lines[0]; n <= l.lines[1]; n++) m.set(n, [...(m.get(n) ?? []), l]);
    }
    return m;
  }, [located]);
  const lines = text.split('\n');
  return (
    <section aria-label={label} className="source">
      <h3>{label}</h3>
      <pre className="code" tabIndex={0}>
        {lines.map((l, i) => {
          const ms = marks.get(i + 1);
          return (
            <div key={i} id={`src-line-${i + 1}`} className={ms ? 'line marked' : 'line'}
                 data-error-paths={ms ? ms.map((x) => x.err.path).join(' ') : undefined}>
              <span className="ln" aria-hidden="true">{i + 1}</span>
              <code>{l || ' '}</code>
              {ms && <span className="sr-only"> ({ms.map((x) => x.err.message).join('; ')})</span>}
              {ms && <span className="mark-note" aria-hidden="true">⟵ {ms.map((x) => x.err.path).join(', ')}</span>}
            </div>
          );
        })}
      </pre>
      <p className="sr-only">{t('sourceView')}</p>
    </section>
  );
}
