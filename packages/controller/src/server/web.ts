/**
 * The built web UI (packages/web/dist) at `/`. Files that exist are sent as they are; any other
 * path outside /api gets index.html, because the UI routes in the browser (`/workloads/x` is a
 * page of the UI, not a file). Vite names the files under assets/ by their content hash, so they
 * are cached for a year; index.html is revalidated on every load so a new build is picked up at
 * once. When the UI was not built, `/` says so instead of answering a bare 404.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MsegError } from '../errors.js';

/** packages/web/dist, from src/server or dist/server alike. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** The route of the UI: every GET no other route matches. The auth hook treats it as unmatched. */
export const WEB_ROUTE = '/*';

const ASSETS = 'assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mseg</title></head>
<body><h1>mseg</h1><p>The web UI is not built. Run <code>npm run build</code> and reload this page; the REST API is at <a href="/api/docs">/api/docs</a>.</p></body></html>
`;

/** The file a URL path names inside `root`, or null when there is none (or it would leave root). */
function fileIn(root: string, urlPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (rel === '' || rel.includes('\0')) return null;
  const full = resolve(root, rel);
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return statSync(full).isFile() ? rel : null;
  } catch {
    return null;
  }
}

export const webUi: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  await app.register(fastifyStatic, { root, serve: false });

  app.get(WEB_ROUTE, { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0];
    // The auth hook has already checked the token of an /api path (it treats this route as
    // unmatched there): unknown API paths keep the API's JSON 404.
    if (path.startsWith('/api/') || path === '/api') throw new MsegError('MSEG_ERR_NOT_FOUND', `no route ${req.method} ${path}`);
    if (!existsSync(join(root, 'index.html'))) return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    const file = fileIn(root, path.slice(1));
    if (file !== null) {
      return reply.header('cache-control', file.startsWith(ASSETS) ? IMMUTABLE : 'no-cache').sendFile(file, { cacheControl: false });
    }
    // A missing hashed file must not come back as HTML: the browser would try to run the page as
    // a script. It only happens when an old page asks for assets of a replaced build.
    if (path.startsWith(`/${ASSETS}`)) throw new MsegError('MSEG_ERR_NOT_FOUND', `no file ${path}`);
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
};
