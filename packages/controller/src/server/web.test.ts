import type { FastifyInstance } from 'fastify';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../testing/controller.js';
import { buildApp } from './app.js';
import { WEB_DIST } from './web.js';

const INDEX = '<!doctype html><html><body><div id="root"></div><script src="/assets/index-abc123.js"></script></body></html>';

describe('web UI at /', () => {
  let t: TestController;
  let root: string;
  let app: FastifyInstance;
  const get = async (url: string, token?: string) => {
    const r = await app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.statusCode, body: r.body, headers: r.headers };
  };

  beforeAll(async () => {
    t = await testController();
    root = mkdtempSync(join(tmpdir(), 'mseg-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await buildApp(t.ctx, { webRoot: root });
  });
  afterAll(async () => {
    await app.close();
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / and revalidates it on every load', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toBe(INDEX);
    expect(r.headers['cache-control']).toBe('no-cache');
  });

  it('answers UI paths that are no file with index.html (the browser routes them)', async () => {
    for (const url of ['/workloads', '/workloads/c0ffee', '/violations?window=24h', '/map/']) {
      const r = await get(url);
      expect(r.status, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
    }
  });

  it('serves hashed assets with a year-long immutable cache, other files revalidated', async () => {
    const js = await get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toBe('console.log(1)');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const svg = await get('/favicon.svg');
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing asset with a JSON 404, not with the page', async () => {
    const r = await get('/assets/index-gone.js');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.code).toBe('MSEG_ERR_NOT_FOUND');
  });

  it('serves nothing outside its directory', async () => {
    writeFileSync(join(root, '..', 'mseg-web-secret.txt'), 'secret');
    try {
      for (const url of ['/../mseg-web-secret.txt', '/%2e%2e/mseg-web-secret.txt', '/assets/%2e%2e/%2e%2e/mseg-web-secret.txt']) {
        const r = await get(url);
        expect(r.body, url).not.toContain('secret');
      }
    } finally {
      rmSync(join(root, '..', 'mseg-web-secret.txt'), { force: true });
    }
  });

  it('keeps /api answers JSON: unknown API paths are 401 without a token and 404 with one', async () => {
    const anon = await get('/api/v1/no-such-thing');
    expect(anon.status).toBe(401);
    expect(JSON.parse(anon.body).error.code).toBe('MSEG_ERR_AUTH_REQUIRED');
    const admin = await get('/api/v1/no-such-thing', t.tokens.admin);
    expect(admin.status).toBe(404);
    expect(admin.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(admin.body).error).toEqual({ code: 'MSEG_ERR_NOT_FOUND', message: 'no route GET /api/v1/no-such-thing' });
    expect((await get('/api/v1/system/summary', t.tokens.reader)).status).toBe(200);
    expect((await get('/api/docs/')).body).toContain('swagger');
  });

  it('says the UI is not built when its directory has no index.html', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mseg-web-empty-'));
    const bare = await buildApp(t.ctx, { webRoot: empty });
    try {
      const r = await bare.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(503);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('The web UI is not built');
      expect((await bare.inject({ method: 'GET', url: '/workloads' })).body).toContain('The web UI is not built');
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('serves packages/web/dist by default, which the build script makes', async () => {
    expect(WEB_DIST.replaceAll('\\', '/')).toMatch(/packages\/web\/dist\/$/);
    expect(existsSync(join(WEB_DIST, 'index.html'))).toBe(true);
    const r = await t.anon('GET', '/');
    expect(r.status).toBe(200);
    expect(r.body).toBe(readFileSync(join(WEB_DIST, 'index.html'), 'utf8'));
  });
});
