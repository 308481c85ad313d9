/**
 * Authentication and role check for every request under /api/v1, as one onRequest hook so no
 * route can forget it. Routes opt out only through their config: `public` (login, health),
 * `queryToken` (the event stream: EventSource cannot set headers, so `?token=` is accepted there
 * and nowhere else, keeping tokens out of other URLs and logs), `anyRole` (a POST that a reader
 * may send: logout ends its own session, the group preview changes nothing).
 */
import type { FastifyRequest } from 'fastify';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import { resolveToken } from './sessions.js';
import type { Principal } from './users.js';
import { WEB_ROUTE } from '../server/web.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: Principal | null;
    /** The bearer token of this request (logout deletes it; the event stream re-checks it). */
    token: string | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
    queryToken?: boolean;
    anyRole?: boolean;
  }
}

export const API_PREFIX = '/api/v1';
const READ_METHODS = new Set(['GET', 'HEAD']);

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(header);
  if (!m) throw new MsegError('MSEG_ERR_AUTH_REQUIRED', 'Authorization header must be "Bearer <token>"', 'headers.authorization');
  return m[1];
}

function queryToken(req: FastifyRequest): string | null {
  const token = new URL(req.url, 'http://x').searchParams.get('token');
  return token && /^[A-Za-z0-9_-]{1,128}$/.test(token) ? token : null;
}

export function authHook(ctx: Context) {
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const route = req.routeOptions.url;
    // Routes outside the API (OpenAPI docs, the UI) are public; an unmatched path under /api is
    // treated as API so that probing for routes without a token learns nothing but 401. The UI's
    // catch-all route matches every GET no other route does, so it counts as unmatched.
    const unmatched = route === undefined || route === WEB_ROUTE;
    const api = unmatched ? req.url.startsWith('/api/') : route === API_PREFIX || route.startsWith(`${API_PREFIX}/`);
    if (!api || req.routeOptions.config.public) return;
    const token = bearer(req) ?? (req.routeOptions.config.queryToken ? queryToken(req) : null);
    if (token === null) throw new MsegError('MSEG_ERR_AUTH_REQUIRED');
    const user = await resolveToken(ctx, token);
    if (!user) throw new MsegError('MSEG_ERR_AUTH_REQUIRED', 'token unknown or expired; log in again');
    req.user = { id: user.id, username: user.username, role: user.role };
    req.token = token;
    if (user.role !== 'admin' && !READ_METHODS.has(req.method) && !req.routeOptions.config.anyRole) {
      throw new MsegError('MSEG_ERR_AUTH_FORBIDDEN', `role ${user.role} may not ${req.method} ${route ?? req.url.split('?')[0]}`);
    }
  };
}
