import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { onPostgres, testDbUrl } from '../../test/support/store-env.js';
import { openStore } from '../store/db.js';
import type { Context } from '../server/context.js';
import { EventBus, type EventMap, type EventName } from './bus.js';
import { testDatabase } from '../testing/controller.js';
import { channelFor, encodeEvent, startPgBridge, type PgBridge } from './pg-bridge.js';

const dir = mkdtempSync(join(tmpdir(), 'mseg-bridge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Replica {
  ctx: Context;
  bridge: PgBridge;
  logs: string[];
}
const open: Replica[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.bridge.close();
    await r.ctx.store.close();
  }
});

/** A replica: its own store (own pool) on this file's database, its own bus and bridge. */
async function replica(url = testDbUrl): Promise<Replica> {
  const store = await openStore(url, dir);
  const logs: string[] = [];
  const ctx: Context = {
    store,
    events: new EventBus(),
    options: { dataDir: dir, apiPort: 0, grpcPort: 0, noTls: true, db: url, host: '127.0.0.1' },
    now: () => Date.now(),
    log: (m) => logs.push(m),
  };
  const r = { ctx, bridge: await startPgBridge(ctx), logs };
  open.push(r);
  return r;
}

function next<K extends EventName>(r: Replica, name: K, timeoutMs: number): Promise<EventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${name}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = r.ctx.events.on(name, (d) => {
      clearTimeout(timer);
      off();
      resolve(d);
    });
  });
}

/** Ends a replica's LISTEN connection from the server side, as a PostgreSQL restart would. */
async function killBridgeConnection(via: Replica, victim: Replica): Promise<void> {
  const res = await sql<{ ok: boolean }>`select pg_terminate_backend(pid) as ok from pg_stat_activity
    where application_name = ${`mseg-bridge-${victim.bridge.replicaId}`}`.execute(via.ctx.store.db);
  expect(res.rows).toEqual([{ ok: true }]);
}

describe('encodeEvent', () => {
  it('keeps a small event in one notification and splits a large one under the 8000-byte limit', () => {
    expect(encodeEvent('r1', 0, 'policy', { revision: 3 })).toEqual(['{"r":"r1","e":"policy","d":{"revision":3}}']);
    const ids = Array.from({ length: 2000 }, (_, i) => `workload-${i}-${'x'.repeat(20)}`);
    const parts = encodeEvent('r1', 7, 'workloads', { agentId: 'a', ids });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThan(8000);
  });
});

describe('channelFor', () => {
  it('names a channel per schema within the 63-byte identifier limit', () => {
    expect(channelFor('public')).toBe('mseg_events_public');
    const long = channelFor('s'.repeat(60));
    expect(long).toMatch(/^mseg_events_[0-9a-f]{32}$/);
    expect(long).not.toBe(channelFor('s'.repeat(61)));
  });
});

describe.skipIf(!onPostgres)('PostgreSQL event bridge (runs in the controller-postgres project)', () => {
  it('relays an event to the other replica within 1 s, and not back to its sender', async () => {
    const a = await replica();
    const b = await replica();
    const seenByA: unknown[] = [];
    a.ctx.events.on('policy', (d) => seenByA.push(d));
    const t0 = performance.now();
    const got = next(b, 'policy', 1000);
    a.ctx.events.emit('policy', { revision: 42 });
    expect(await got).toEqual({ revision: 42 });
    expect(performance.now() - t0).toBeLessThan(1000);
    // b relays its own event to a; a then holds its own local one and b's, never its own echo.
    const back = next(a, 'policy', 1000);
    b.ctx.events.emit('policy', { revision: 43 });
    await back;
    expect(seenByA).toEqual([{ revision: 42 }, { revision: 43 }]);
  });

  it('carries an event larger than one notification', async () => {
    const a = await replica();
    const b = await replica();
    const ids = Array.from({ length: 3000 }, (_, i) => `w-${i}-ü-${'y'.repeat(16)}`);
    const got = next(b, 'workloads', 2000);
    a.ctx.events.emit('workloads', { agentId: 'agent-1', ids });
    expect(await got).toEqual({ agentId: 'agent-1', ids });
  });

  it('delivers events in the order they were emitted', async () => {
    const a = await replica();
    const b = await replica();
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      b.ctx.events.on('policy', (d) => {
        seen.push(d.revision);
        if (seen.length === 50) resolve();
      });
    });
    for (let i = 1; i <= 50; i++) a.ctx.events.emit('policy', { revision: i });
    await done;
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('reconnects after losing its connection: missed nothing it sent, hears the other replica again', async () => {
    const a = await replica();
    const b = await replica();
    // b loses its LISTEN connection; a's event must reach b once b is back.
    await killBridgeConnection(a, b);
    await expect.poll(() => b.logs.some((l) => l.includes('connection lost')), { timeout: 2000 }).toBe(true);
    await expect
      .poll(async () => {
        const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where application_name = ${`mseg-bridge-${b.bridge.replicaId}`}`.execute(a.ctx.store.db);
        return r.rows[0].n;
      }, { timeout: 5000 })
      .toBe(1);
    const toB = next(b, 'config', 1000);
    a.ctx.events.emit('config', { keys: ['retention'] });
    expect(await toB).toEqual({ keys: ['retention'] });

    // a loses its connection and emits at once: the event waits in the outbox and goes out later.
    await killBridgeConnection(b, a);
    await expect.poll(() => a.logs.some((l) => l.includes('connection lost')), { timeout: 2000 }).toBe(true);
    const late = next(b, 'agents', 5000);
    a.ctx.events.emit('agents', { agentId: 'x', state: 'online' });
    expect(await late).toEqual({ agentId: 'x', state: 'online' });
  });

  it('keeps deployments on different schemas of one database apart', async () => {
    const schemaDb = await testDatabase();
    try {
      const a = await replica();
      const b = await replica();
      const other = await replica(schemaDb.url);
      const otherSeen: unknown[] = [];
      other.ctx.events.on('policy', (d) => otherSeen.push(d));
      const got = next(b, 'policy', 1000);
      a.ctx.events.emit('policy', { revision: 9 });
      await got;
      // other's own replica pair hears it, so a stray event from a would have arrived by then.
      const peer = await replica(schemaDb.url);
      const fromPeer = next(other, 'policy', 1000);
      peer.ctx.events.emit('policy', { revision: 10 });
      await fromPeer;
      expect(otherSeen).toEqual([{ revision: 10 }]);
    } finally {
      for (const r of open.splice(0)) {
        await r.bridge.close();
        await r.ctx.store.close();
      }
      await schemaDb.drop();
    }
  });

  it('stops relaying after close', async () => {
    const a = await replica();
    const b = await replica();
    await a.bridge.close();
    expect(a.ctx.events.relay).toBeNull();
    const seen: unknown[] = [];
    b.ctx.events.on('policy', (d) => seen.push(d));
    a.ctx.events.emit('policy', { revision: 1 });
    // A NOTIFY from an open replica arrives in milliseconds; wait for one as the yardstick.
    const c = await replica();
    const marker = next(b, 'policy', 1000);
    c.ctx.events.emit('policy', { revision: 2 });
    await marker;
    expect(seen).toEqual([{ revision: 2 }]);
  });
});
