import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onPostgres } from '../../test/support/store-env.js';
import { openStore, type Store } from './db.js';

let dir: string;
let store: Store;
let other: SQLite.Database | null = null;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mseg-threads-'));
  store = await openStore(undefined, dir);
});
afterEach(async () => {
  other?.close();
  other = null;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// The SQLite store's own dialect; PostgreSQL has its pool.
describe.skipIf(onPostgres)('SQLite store threads', () => {
  it('answers reads while a write waits for another connection holding the write lock', async () => {
    await store.db.insertInto('config').values({ key: 'a', value: '1' }).execute();
    other = new SQLite(join(dir, 'mseg.db'));
    other.prepare('begin immediate').run();
    const write = store.db.insertInto('config').values({ key: 'b', value: '2' }).execute();
    let written = false;
    void write.then(() => (written = true));
    expect(await store.db.selectFrom('config').select('key').where('key', '=', 'a').execute()).toEqual([{ key: 'a' }]);
    expect(written).toBe(false);
    other.prepare('commit').run();
    await write;
    expect(await store.db.selectFrom('config').select('key').orderBy('key').execute()).toEqual([{ key: 'a' }, { key: 'b' }]);
  });

  it('keeps a transaction to itself and rolls it back whole when it fails', async () => {
    const failing = store.db.transaction().execute(async (tx) => {
      await tx.insertInto('config').values({ key: 'in-tx', value: '1' }).execute();
      // A write outside the transaction waits for it instead of joining it.
      const outside = store.db.insertInto('config').values({ key: 'outside', value: '1' }).execute();
      await sql`insert into no_such_table values (1)`.execute(tx);
      await outside;
    });
    await expect(failing).rejects.toThrow(/no such table/);
    await expect.poll(async () => (await store.db.selectFrom('config').select('key').execute()).map((r) => r.key)).toEqual(['outside']);
  });

  it('an idle store left open does not keep its process alive; a call in flight does until answered', async () => {
    // The built store in a process of its own: it writes a row, leaves the store open and ends
    // when nothing else is left to do (before, its idle threads held it open for good).
    const script = `
      import { openStore } from ${JSON.stringify(join(import.meta.dirname, '../../dist/store/db.js'))};
      const s = await openStore(undefined, process.env.MSEG_TEST_DIR);
      await s.db.insertInto('config').values({ key: 'left-open', value: '1' }).execute();
      console.log('wrote');`;
    // A file, not `--input-type=module -e`: worker threads inherit the process's exec options.
    const file = join(dir, 'left-open.mjs');
    writeFileSync(file, script);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MSEG_TEST_DIR: join(dir, 'child') } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const code = await Promise.race([
      new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
      new Promise<string>((r) => setTimeout(() => r('still running after 20 s'), 20_000)),
    ]);
    child.kill('SIGKILL');
    expect(code).toBe(0);
    expect(out.trim()).toBe('wrote');
    const check = new SQLite(join(dir, 'child', 'mseg.db'), { readonly: true });
    expect(check.prepare("select value from config where key = 'left-open'").get()).toEqual({ value: '1' });
    check.close();
  });

  it("passes a statement's SQLite error back with its code", async () => {
    await expect(sql`select * from no_such_table`.execute(store.db)).rejects.toMatchObject({ message: expect.stringMatching(/no such table/), code: 'SQLITE_ERROR' });
  });
});
