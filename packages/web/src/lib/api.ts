/**
 * The one HTTP client of the UI. Features call it from their own `api.ts`. It adds the bearer
 * token, turns the controller's `{ error: { code, message, field } }` bodies into `ApiError`s
 * (so forms can put a message next to `field`), and on 401 tells the auth layer to show the login
 * page again.
 */
export const API_BASE = '/api/v1';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the controller could not be reached at all. */
    readonly status: number,
    /** The controller's MSEG_ERR_* code, or MSEG_UI_NETWORK / MSEG_UI_BAD_RESPONSE. */
    readonly code: string,
    message: string,
    /** The input at fault as the controller names it, e.g. `body.ports`. */
    readonly field?: string,
  ) {
    super(message);
  }

  /** The field name without its location prefix (`body.ports` → `ports`) for form items. */
  get formField(): string | undefined {
    return this.field?.replace(/^(body|query|querystring|params|headers)\./, '');
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  /** Raw text body sent as is (policy import in YAML); `contentType` names it. */
  text?: string;
  contentType?: string;
  signal?: AbortSignal;
  /** Return the body as text (exports); JSON otherwise. */
  asText?: boolean;
}

interface Session {
  token: () => string | null;
  onUnauthorized: () => void;
}

let session: Session = { token: () => null, onUnauthorized: () => {} };

/** Called once by the auth provider: where the token comes from and what a 401 does. */
export function configureApi(next: Session): void {
  session = next;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

function isErrorBody(body: unknown): body is { error: { code: string; message: string; field?: string } } {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e = (body as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { message?: unknown }).message === 'string';
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.text !== undefined) {
    body = opts.text;
    headers['content-type'] = opts.contentType ?? 'text/plain';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), { method: opts.method ?? 'GET', headers, body, signal: opts.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'MSEG_UI_NETWORK', err instanceof Error ? err.message : String(err));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  if (!opts.asText || !res.ok) {
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError(res.status, 'MSEG_UI_BAD_RESPONSE', `${res.status} ${res.statusText}: the answer is not JSON`);
    }
  }
  if (!res.ok) {
    const error = isErrorBody(parsed)
      ? new ApiError(res.status, parsed.error.code, parsed.error.message, parsed.error.field)
      : new ApiError(res.status, 'MSEG_UI_BAD_RESPONSE', `${res.status} ${res.statusText}`);
    // Only a request that carried a token can mean "the session is over"; a failed login is a 401 too.
    if (res.status === 401 && token) session.onUnauthorized();
    throw error;
  }
  return (opts.asText ? text : parsed) as T;
}
