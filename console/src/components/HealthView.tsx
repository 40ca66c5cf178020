/* HealthView.tsx: the Health screen: the session store's status (GET
 * /v1/health) and figures from /metrics, refreshed every few seconds:
 * turns per second, p99 latency, live sessions, errors. */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { figures, parseMetrics, quantile, rate, type Figures } from '../metrics';
import { ErrorBanner } from './ErrorBanner';

export const HEALTH_EVERY_S = 3;

function fmtSeconds(s: number | null): string {
  if (s === null) return '—';
  if (!isFinite(s)) return '> max';
  return s < 1 ? `≤ ${(s * 1000).toLocaleString()} ms` : `≤ ${s} s`;
}

export function HealthView({ everySeconds = HEALTH_EVERY_S }: { everySeconds?: number }) {
  const { t, lang } = useI18n();
  const num = (n: number, digits: number) =>
    new Intl.NumberFormat(lang === 'it' ? 'it-IT' : 'en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
  const [health, setHealth] = useState<number | null>(null);
  const [cur, setCur] = useState<Figures | null>(null);
  const [tps, setTps] = useState<number | null>(null);
  const [p99, setP99] = useState<number | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [at, setAt] = useState<Date | null>(null);
  const prev = useRef<{ f: Figures; at: number } | null>(null);

  useEffect(() => {
    let live = true;
    const tick = async () => {
      const h = await api.health();
      if (!live) return;
      setHealth(h);
      try {
        const f = figures(parseMetrics(await api.metrics()));
        if (!live) return;
        const now = Date.now();
        const p = prev.current;
        setTps(rate(f, p?.f ?? null, p ? (now - p.at) / 1000 : 0));
        setP99(quantile(f, p?.f ?? null, 0.99));
        setCur(f);
        prev.current = { f, at: now };
        setErr(null);
      } catch (e) {
        if (live) setErr(e);
      }
      if (live) setAt(new Date());
    };
    void tick();
    const id = setInterval(() => void tick(), everySeconds * 1000);
    return () => { live = false; clearInterval(id); };
  }, [everySeconds]);

  const ok = health === 200;
  const tiles: [string, string, string][] = cur ? [
    ['tps', t('turnsPerSec'), tps === null ? '—' : num(tps, 2)],
    ['p99', t('p99'), fmtSeconds(p99)],
    ['sessions', t('activeSessions'), cur.sessions === null ? '—' : String(cur.sessions)],
    ['errors', t('errors'), String(cur.errors)],
    ['storeErrors', t('storeErrors'), String(cur.storeErrors)],
    ['turns', t('turnsTotal'), String(cur.turnsTotal)],
    ['zone', t('zoneUsed'), cur.zoneUsed !== null && cur.zoneSize ? `${num((100 * cur.zoneUsed) / cur.zoneSize, 1)} %` : '—'],
  ] : [];

  return (
    <div className="screen health">
      <h2>{t('healthTitle')}</h2>
      <p className={`store ${health === null ? '' : ok ? 'ok' : 'down'}`} data-testid="store-status" role="status">
        {t('store')}: <strong>{health === null ? t('loading') : ok ? t('storeOk') : health === 0 ? t('errNetwork') : t('storeDown')}</strong>
      </p>
      {err != null && <p className="muted">{t('metricsUnavailable', { msg: '' })}</p>}
      <ErrorBanner error={err} />
      <dl className="tiles">
        {tiles.map(([k, label, v]) => (
          <div key={k} className="tile" data-metric={k}><dt>{label}</dt><dd>{v}</dd></div>
        ))}
      </dl>
      {at && <p className="muted small">{t('updatedAt', { t: at.toLocaleTimeString(), s: everySeconds })}</p>}
    </div>
  );
}
