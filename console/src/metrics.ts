/* metrics.ts: reads the Prometheus text of /metrics and derives the
 * figures the Health screen shows (turns per second between two samples,
 * p99 from the latency histogram, sessions, errors). */

export interface Sample { name: string; labels: Record<string, string>; value: number }

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(l);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[3])) !== null) labels[lm[1]] = lm[2];
    }
    const v = m[4] === '+Inf' ? Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

export const sum = (s: Sample[], name: string) =>
  s.filter((x) => x.name === name).reduce((a, x) => a + x.value, 0);

export interface Figures {
  turnsTotal: number;
  durationCount: number;
  buckets: { le: number; count: number }[];
  sessions: number | null;
  errors: number;
  storeErrors: number;
  zoneUsed: number | null;
  zoneSize: number | null;
}

export function figures(s: Sample[]): Figures {
  const has = (n: string) => s.some((x) => x.name === n);
  return {
    turnsTotal: sum(s, 'ddt_turns_total'),
    durationCount: sum(s, 'ddt_turn_duration_seconds_count'),
    buckets: s.filter((x) => x.name === 'ddt_turn_duration_seconds_bucket')
      .map((x) => ({ le: x.labels.le === '+Inf' ? Infinity : Number(x.labels.le), count: x.value }))
      .sort((a, b) => a.le - b.le),
    sessions: has('ddt_sessions') ? sum(s, 'ddt_sessions') : null,
    errors: sum(s, 'ddt_errors_total'),
    storeErrors: sum(s, 'ddt_store_errors_total'),
    zoneUsed: has('ddt_zone_used_bytes') ? sum(s, 'ddt_zone_used_bytes') : null,
    zoneSize: has('ddt_zone_size_bytes') ? sum(s, 'ddt_zone_size_bytes') : null,
  };
}

/* Upper bound (seconds) of the bucket holding the q-quantile; the
 * histogram of the interval when `prev` is given and saw turns, else the
 * whole histogram.  null without observations. */
export function quantile(cur: Figures, prev: Figures | null, q: number): number | null {
  let b = cur.buckets;
  if (prev && prev.buckets.length === b.length && cur.durationCount > prev.durationCount) {
    b = b.map((x, i) => ({ le: x.le, count: x.count - prev.buckets[i].count }));
  }
  const total = b.length ? b[b.length - 1].count : 0;
  if (!total) return null;
  const want = q * total;
  for (const x of b) if (x.count >= want) return x.le;
  return Infinity;
}

export function rate(cur: Figures, prev: Figures | null, seconds: number): number | null {
  if (!prev || seconds <= 0) return null;
  return Math.max(0, cur.turnsTotal - prev.turnsTotal) / seconds;
}
