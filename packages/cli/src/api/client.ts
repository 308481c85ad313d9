/**
 * The only place the CLI talks HTTP: a small client of the controller's REST API over node:http
 * and node:https (fetch cannot be told to trust one self-signed certificate without another
 * dependency). Error answers become ApiError with the controller's code and message unchanged.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { ApiError, CliError } from '../errors.js';

export interface ClientOptions {
  token?: string;
  /** PEM file of the certificate (or CA) to trust. */
  ca?: string;
  insecure?: boolean;
  timeoutMs?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON-encoded unless it is a string (sent as it is, with `contentType`). */
  body?: unknown;
  contentType?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

const API = '/api/v1';

export class ApiClient {
  private readonly ca: Buffer | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.ca = opts.ca ? readFileSync(opts.ca) : undefined;
  }

  /** A JSON answer of /api/v1<path>. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { status, body } = await this.send(method, path, options);
    if (status === 204 || body === '') return undefined as T;
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new CliError('MSEG_ERR_CLI_BAD_ANSWER', `${method} ${API}${path}: answer ${status} is not JSON`);
    }
  }

  /** The answer's text (exports in YAML). */
  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    return (await this.send(method, path, options)).body;
  }

  private send(method: string, path: string, options: RequestOptions): Promise<{ status: number; body: string }> {
    const url = new URL(`${API}${path}`, this.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/yaml;q=0.9' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const https = url.protocol === 'https:';
    const requestFn = https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = requestFn(
        url,
        {
          method,
          headers,
          timeout: this.opts.timeoutMs ?? 30_000,
          ...(https ? { ca: this.ca, rejectUnauthorized: !this.opts.insecure } : {}),
        },
        (res: IncomingMessage) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 400) return resolve({ status, body });
            reject(errorOf(method, url.pathname, status, body));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${(this.opts.timeoutMs ?? 30_000) / 1000} s`)));
      req.on('error', (e) => reject(new CliError('MSEG_ERR_CLI_UNREACHABLE', `${this.baseUrl}: ${e.message}`, { cause: e })));
      req.end(payload);
    });
  }
}

function errorOf(method: string, path: string, status: number, body: string): Error {
  try {
    const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown; field?: unknown } }).error;
    if (e && typeof e.code === 'string') {
      return new ApiError(e.code, typeof e.message === 'string' ? e.message : '', status, typeof e.field === 'string' ? e.field : undefined);
    }
  } catch {
    // Not the controller's error shape: reported below with the status.
  }
  return new CliError('MSEG_ERR_CLI_BAD_ANSWER', `${method} ${path}: HTTP ${status}`);
}
