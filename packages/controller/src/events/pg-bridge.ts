/**
 * Relays EventBus events between controller replicas that share one PostgreSQL store, through
 * LISTEN/NOTIFY on one channel per store schema (channels are per database, and controllers on
 * different schemas of one database are different deployments). Each replica has an id; a notification carries it with the event
 * name and data, and a replica ignores its own. Events are hints that the shared store changed
 * (consumers re-read it), so a duplicate after a retried NOTIFY is harmless, while a lost one would
 * leave a replica's watch streams stale: outgoing events wait in a bounded outbox while the
 * connection is down and go out once it is back.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Context } from '../server/context.js';
import type { EventMap, EventName } from './bus.js';

const CHANNEL_PREFIX = 'mseg_events_';
/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1). */
const MAX_IDENTIFIER = 63;
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;
/** Bytes of a large message per notification; base64 makes 6668 characters of it. */
const CHUNK = 5000;
/** Events kept while disconnected; beyond that the oldest go (and the loss is logged). */
const OUTBOX_LIMIT = 10_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

interface Whole {
  r: string;
  e: string;
  d: unknown;
}

/** One piece of a message too large for a single notification. */
interface Piece {
  r: string;
  m: number;
  i: number;
  n: number;
  c: string;
}

export interface PgBridge {
  readonly replicaId: string;
  close(): Promise<void>;
}

/** Encodes one event as the payloads of the notifications that carry it. */
export function encodeEvent(replicaId: string, seq: number, name: string, data: unknown): string[] {
  const whole = JSON.stringify({ r: replicaId, e: name, d: data } satisfies Whole);
  const bytes = Buffer.from(whole);
  if (bytes.length <= MAX_PAYLOAD) return [whole];
  const n = Math.ceil(bytes.length / CHUNK);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = bytes.subarray(i * CHUNK, (i + 1) * CHUNK).toString('base64');
    out.push(JSON.stringify({ r: replicaId, m: seq, i, n, c } satisfies Piece));
  }
  return out;
}

/** The channel of the store in `schema`; a hash stands in for a schema name too long to append. */
export function channelFor(schema: string): string {
  const plain = CHANNEL_PREFIX + schema;
  if (Buffer.byteLength(plain) <= MAX_IDENTIFIER) return plain;
  return CHANNEL_PREFIX + createHash('sha256').update(schema).digest('hex').slice(0, 32);
}

export async function startPgBridge(ctx: Context): Promise<PgBridge> {
  const pool = ctx.store.pool;
  if (!pool) throw new Error('the event bridge needs the PostgreSQL store');
  const replicaId = randomUUID();
  const outbox: string[][] = [];
  const partial = new Map<string, string[]>();
  let client: pg.PoolClient | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let backoff = BACKOFF_MIN_MS;
  let seq = 0;
  let channel = '';
  let dropped = 0;

  const deliver = (text: string): void => {
    let msg: Partial<Whole & Piece>;
    try {
      msg = JSON.parse(text) as Partial<Whole & Piece>;
    } catch {
      ctx.log(`event bridge: ignored a notification that is not JSON`);
      return;
    }
    if (typeof msg.r !== 'string' || msg.r === replicaId) return;
    if (typeof msg.c === 'string' && typeof msg.m === 'number' && typeof msg.i === 'number' && typeof msg.n === 'number') {
      // The pieces of one message go out in one statement, so they arrive together and in order.
      const key = `${msg.r}:${msg.m}`;
      const parts = partial.get(key) ?? [];
      parts[msg.i] = msg.c;
      if (parts.filter((p) => p !== undefined).length < msg.n) {
        partial.set(key, parts);
        return;
      }
      partial.delete(key);
      deliver(Buffer.concat(parts.map((p) => Buffer.from(p, 'base64'))).toString());
      return;
    }
    if (typeof msg.e !== 'string' || typeof msg.d !== 'object' || msg.d === null) {
      ctx.log(`event bridge: ignored a malformed notification from replica ${msg.r}`);
      return;
    }
    ctx.events.deliver(msg.e as EventName, msg.d as EventMap[EventName]);
  };

  const drain = async (): Promise<void> => {
    while (outbox.length > 0 && client) {
      const payloads = outbox[0];
      const calls = payloads.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ');
      try {
        await client.query(`select ${calls}`, [channel, ...payloads]);
      } catch {
        // The connection is failing; its 'error' handler reconnects and flushes again.
        return;
      }
      outbox.shift();
    }
  };
  // One drain at a time, so notifications leave in emit order; close() awaits the running one.
  let draining: Promise<void> | null = null;
  const flush = (): Promise<void> => {
    draining ??= drain().finally(() => {
      draining = null;
      // An event emitted between the drain's last check and now would otherwise wait for the next.
      if (outbox.length > 0 && client) void flush();
    });
    return draining;
  };

  const lost = (c: pg.PoolClient, err: Error): void => {
    if (client !== c) return;
    client = null;
    c.release(err);
    if (closed) return;
    ctx.log(`event bridge: PostgreSQL connection lost (${err.message}); reconnecting`);
    schedule();
  };

  const connect = async (): Promise<void> => {
    const c = await pool.connect();
    c.on('error', (err) => lost(c, err));
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload) deliver(n.payload);
    });
    try {
      // Named so an operator sees the bridge of each replica in pg_stat_activity.
      await c.query(`set application_name = 'mseg-bridge-${replicaId}'`);
      const schema = await c.query<{ s: string }>('select current_schema() as s');
      channel = channelFor(schema.rows[0].s);
      await c.query(`listen ${c.escapeIdentifier(channel)}`);
    } catch (err) {
      c.release(err as Error);
      throw err;
    }
    if (closed) {
      c.release(true);
      return;
    }
    client = c;
    backoff = BACKOFF_MIN_MS;
    void flush();
  };

  const schedule = (): void => {
    retry = setTimeout(() => {
      retry = null;
      if (closed) return;
      connect().catch((err: Error) => {
        ctx.log(`event bridge: reconnect failed (${err.message}); retrying in ${backoff} ms`);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        schedule();
      });
    }, backoff);
  };

  await connect();

  const relay = <K extends EventName>(name: K, data: EventMap[K]): void => {
    outbox.push(encodeEvent(replicaId, seq++, name, data));
    if (outbox.length > OUTBOX_LIMIT) {
      outbox.shift();
      if (dropped++ === 0) ctx.log(`event bridge: outbox full while disconnected; dropping the oldest events`);
    } else {
      dropped = 0;
    }
    void flush();
  };
  ctx.events.relay = relay;

  return {
    replicaId,
    async close() {
      if (closed) return;
      closed = true;
      if (ctx.events.relay === relay) ctx.events.relay = null;
      if (retry) clearTimeout(retry);
      const c = client;
      if (!c) return;
      // Events emitted just before shutdown still reach the other replicas.
      await flush();
      client = null;
      try {
        await c.query(`unlisten ${c.escapeIdentifier(channel)}`);
        c.release();
      } catch (err) {
        c.release(err as Error);
      }
    },
  };
}
