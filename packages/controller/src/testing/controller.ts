/**
 * testController(): a whole REST controller in one call, for tests of any route.
 *
 *   const t = await testController();
 *   const r = await t.admin('POST', '/api/v1/groups', { name: 'web', criteria: [] });
 *   expect(r.status).toBe(201); expect(r.json.name).toBe('web');
 *   expect((await t.reader('DELETE', '/api/v1/groups/web')).status).toBe(403);
 *   expect((await t.anon('GET', '/api/v1/workloads')).status).toBe(401);
 *   await t.close();
 *
 * It makes a temp data dir, opens the store (SQLite in that dir; on PostgreSQL when MSEG_TEST_DB
 * is a postgres:// URL, as in the `controller-postgres` vitest project, each call in its own
 * schema so several controllers in one test file never see each other's rows), builds the Context
 * and the Fastify app, creates the users `admin` and `reader` and logs both in through the real
 * login route. `admin`, `reader` and `anon` call `app.inject` with that user's bearer token (anon:
 * none) and return `{ status, json, body, headers }`; `json` is the parsed body or undefined.
 * `ctx.now` can be replaced through `opts.now` to test expiry; `logs` collects ctx.log lines.
 * Nothing listens on a port unless the test calls `app.listen` itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createUser } from '../auth/users.js';
import { EventBus } from '../events/bus.js';
import { buildApp } from '../server/app.js';
import type { ControllerOptions, Context } from '../server/context.js';
import { openStore } from '../store/db.js';

export const ADMIN_PASSWORD = 'admin-test-password';
export const READER_PASSWORD = 'reader-test-password';

export interface CallResult {
  status: number;
  // Tests read fields of answers of every shape; `any` keeps them free of casts.
  json: any;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export type Call = (method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<CallResult>;

export interface TestController {
  ctx: Context;
  app: FastifyInstance;
  admin: Call;
  reader: Call;
  anon: Call;
  tokens: { admin: string; reader: string };
  logs: string[];
  close(): Promise<void>;
}

export interface TestControllerOptions {
  now?: () => number;
  options?: Partial<ControllerOptions>;
}

/**
 * A store URL of its own for one test: undefined (SQLite in the caller's data dir) unless
 * MSEG_TEST_DB names a PostgreSQL database; then a fresh schema in it, selected through the URL's
 * search_path, so it also works for controllers started from a URL (`--db`). drop() removes it.
 */
export async function testDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const url = process.env.MSEG_TEST_DB;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) return { url: undefined, drop: async () => {} };
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await run(`create schema ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return { url: scoped.toString(), drop: () => run(`drop schema ${schema} cascade`) };
}

export async function testController(opts: TestControllerOptions = {}): Promise<TestController> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mseg-ctl-'));
  const database = await testDatabase();
  const store = await openStore(database.url, dataDir);
  const logs: string[] = [];
  const ctx: Context = {
    store,
    events: new EventBus(),
    options: { dataDir, apiPort: 0, grpcPort: 0, noTls: true, host: '127.0.0.1', ...opts.options },
    now: opts.now ?? Date.now,
    log: (m) => logs.push(m),
  };
  const app = await buildApp(ctx);

  const caller =
    (token: string | null): Call =>
    async (method, url, body, headers = {}) => {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(body === undefined ? {} : typeof body === 'string' || Buffer.isBuffer(body) ? { payload: body } : { payload: body as object }),
      });
      let json: unknown;
      try {
        json = res.body === '' ? undefined : JSON.parse(res.body);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, body: res.body, headers: res.headers };
    };

  const anon = caller(null);
  const login = async (username: string, password: string) => {
    const r = await anon('POST', '/api/v1/auth/login', { username, password });
    if (r.status !== 200) throw new Error(`testController: login of ${username} failed: ${r.status} ${r.body}`);
    return r.json.token as string;
  };
  await createUser(ctx, 'admin', ADMIN_PASSWORD, 'admin');
  await createUser(ctx, 'reader', READER_PASSWORD, 'reader');
  const tokens = { admin: await login('admin', ADMIN_PASSWORD), reader: await login('reader', READER_PASSWORD) };

  return {
    ctx,
    app,
    admin: caller(tokens.admin),
    reader: caller(tokens.reader),
    anon,
    tokens,
    logs,
    async close() {
      await app.close();
      await store.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
