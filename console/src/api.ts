/* api.ts: calls to the ddt HTTP API from the console (same origin: the
 * console is served by the nginx that serves the API) and the translation
 * of API errors into sentences a person understands. */
import type { T } from './i18n';
import type {
  ProjectDetail, ProjectRow, PutResult, SessionInfo, TurnInput, TurnResponse, CompileError,
} from './types';

export class ApiError extends Error {
  status: number;
  code: string;
  errors: CompileError[];
  constructor(status: number, code: string, message: string, errors: CompileError[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

async function call<R>(method: string, url: string, body?: unknown, raw?: string): Promise<R> {
  let res: Response;
  const init: RequestInit = { method, headers: {} };
  if (body !== undefined || raw !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = raw !== undefined ? raw : JSON.stringify(body);
  }
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', (e as Error).message);
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; errors?: CompileError[] } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`,
      err?.message ?? (text.slice(0, 200).replace(/<[^>]*>/g, ' ').trim() || res.statusText),
      err?.errors ?? []);
  }
  return (json ?? {}) as R;
}

export const api = {
  projects: () => call<{ projects: ProjectRow[] }>('GET', '/v1/projects').then((r) => r.projects ?? []),
  project: (name: string) => call<ProjectDetail>('GET', `/v1/projects/${encodeURIComponent(name)}`),
  putProject: async (name: string, source: string) => {
    const res = await fetch(`/v1/projects/${encodeURIComponent(name)}`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: source,
    }).catch((e) => { throw new ApiError(0, 'network', (e as Error).message); });
    const text = await res.text();
    let json: any = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    if (!res.ok) {
      throw new ApiError(res.status, json?.error?.code ?? `http_${res.status}`,
        json?.error?.message ?? res.statusText, json?.error?.errors ?? []);
    }
    return { status: res.status, result: json as PutResult };
  },
  createSession: (project: string, locale?: string, variables?: Record<string, unknown>) =>
    call<TurnResponse>('POST', '/v1/sessions', {
      project, ...(locale ? { locale } : {}), ...(variables && Object.keys(variables).length ? { variables } : {}),
    }),
  turn: (id: string, input: TurnInput) =>
    call<TurnResponse>('POST', `/v1/sessions/${encodeURIComponent(id)}/turns`, input),
  session: (id: string) => call<SessionInfo>('GET', `/v1/sessions/${encodeURIComponent(id)}`),
  deleteSession: (id: string) => call<unknown>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`),
  health: async () => {
    try {
      const r = await fetch('/v1/health');
      return r.status;
    } catch {
      return 0;
    }
  },
  metrics: async () => {
    let r: Response;
    try { r = await fetch('/metrics'); } catch (e) { throw new ApiError(0, 'network', (e as Error).message); }
    if (!r.ok) throw new ApiError(r.status, `http_${r.status}`, r.statusText);
    return r.text();
  },
};

/* A sentence for a person: what happened and what to do. */
export function explainError(e: unknown, t: T): string {
  if (!(e instanceof ApiError)) return t('crashed', { message: String((e as Error)?.message ?? e) });
  const v = { message: e.message, status: e.status };
  switch (e.status) {
    case 0: return t('errNetwork');
    case 400: return t('err400', v);
    case 403: return t('err403');
    case 404:
      if (e.code === 'session_not_found') return t('err404session');
      if (e.code === 'project_not_found') return t('err404project');
      return t('err404', v);
    case 405: return t('err405', v);
    case 409: return e.code === 'session_exists' ? t('err409exists') : t('err409conflict');
    case 410: return t('err410', v);
    case 413: return t('err413');
    case 415: return t('err415');
    case 422: return t('err422', v);
    case 503: return t('err503');
    default:
      return e.status >= 500 ? t('err5xx', v) : t('errOther', v);
  }
}
