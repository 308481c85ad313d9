/**
 * Conversation roll-up and retention: raw 5 s buckets → 1 min → 1 h, each level kept as long as
 * the system config's `retention` says. A periodic job rolls up each bucket once it is complete
 * and deletes expired rows.
 *
 * Watermarks (config key 'rollup': the end of what each level has rolled up) make a run
 * idempotent: a bucket below the watermark is never rolled again, and a level's rows are
 * recomputed (delete, then insert from the finer level) inside the same transaction that moves
 * the watermark. Readers use the watermarks too (see levelsFor): coarse rows below a level's
 * watermark, finer rows above it, so nothing is counted twice or missed while roll-ups lag.
 *
 * A minute is rolled up only LATENESS after it ended, so reports that arrive late (an agent's
 * queue after a reconnect) still make it into the roll-up; later ones stay in the raw level.
 */
import { sql, type Kysely } from 'kysely';
import { getSystemConfig } from '../server/config.js';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const RAW = 0;
export const LATENESS_MS = 2 * MINUTE;
export const ROLLUP_INTERVAL_MS = 60_000;
/**
 * How long a stored report's batch id is kept to recognise it when sent again. An agent resends a
 * batch only while it waits for that batch's answer (its ids carry its boot, and a restart starts
 * new batches): after a lost answer that is seconds to minutes, hours only if the controller stays
 * out of reach that long after it stored the batch.
 */
export const REPORT_BATCH_HOLD_MS = 6 * HOUR;

const STATE_KEY = 'rollup';
/** PostgreSQL advisory lock id: one replica rolls up at a time, the others skip the run. */
const PG_LOCK = 0x6d736567;

export interface RollupState {
  /** Raw buckets below this are rolled into minutes (ms, exclusive end). */
  minute: number;
  /** Minute buckets below this are rolled into hours. */
  hour: number;
}

export interface RollupResult {
  minutesRolled: number;
  hoursRolled: number;
  deleted: number;
}

type Db = Kysely<Database>;

export async function rollupState(db: Db): Promise<RollupState | null> {
  const row = await db.selectFrom('config').select('value').where('key', '=', STATE_KEY).executeTakeFirst();
  return row ? (JSON.parse(row.value) as RollupState) : null;
}

async function saveState(db: Db, s: RollupState): Promise<void> {
  const value = JSON.stringify(s);
  await db.insertInto('config').values({ key: STATE_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

async function oldestBucket(db: Db, resolution: number): Promise<number | null> {
  const row = await db.selectFrom('conversations').select((eb) => eb.fn.min('bucket').as('b')).where('resolution', '=', resolution).executeTakeFirst();
  return row?.b === null || row?.b === undefined ? null : Number(row.b);
}

const floorTo = (t: number, step: number) => t - (t % step);

/**
 * Replaces the `to` rows of buckets [start, end) with the sum of the `from` rows in them. Counters
 * add up; the conversation was decided by the same end(s) unless its buckets disagree ('both').
 */
async function rollLevel(db: Db, from: number, to: number, start: number, end: number): Promise<void> {
  await db.deleteFrom('conversations').where('resolution', '=', to).where('bucket', '>=', start).where('bucket', '<', end).execute();
  await sql`
    insert into conversations (resolution, bucket, client_workload, server_workload, client_ip, server_ip, server_port, proto, app, action, rule_id,
      enforced_by, bytes, packets, sessions, violations, threat_severity, first_seen, last_seen)
    select ${sql.lit(to)}, bucket - (bucket % ${sql.lit(to)}) as b, client_workload, server_workload, client_ip, server_ip, server_port, proto, app, action, rule_id,
      case when min(enforced_by) = max(enforced_by) then min(enforced_by) else 'both' end,
      sum(bytes), sum(packets), sum(sessions), sum(violations), max(threat_severity), min(first_seen), max(last_seen)
    from conversations
    where resolution = ${from} and bucket >= ${start} and bucket < ${end}
    group by b, client_workload, server_workload, client_ip, server_ip, server_port, proto, app, action, rule_id
  `.execute(db);
}

/** Replaces the group map's hour rows of [start, end) with the sum of its minute rows. */
async function rollEdges(db: Db, start: number, end: number): Promise<void> {
  await db.deleteFrom('graph_edges').where('resolution', '=', HOUR).where('bucket', '>=', start).where('bucket', '<', end).execute();
  await sql`
    insert into graph_edges (resolution, bucket, client_node, client_kind, server_node, server_kind, server_port, proto, app, action, rule_id,
      bytes, sessions, violations, last_seen)
    select ${sql.lit(HOUR)}, bucket - (bucket % ${sql.lit(HOUR)}) as b, client_node, client_kind, server_node, server_kind, server_port, proto, app, action, rule_id,
      sum(bytes), sum(sessions), sum(violations), max(last_seen)
    from graph_edges
    where resolution = ${MINUTE} and bucket >= ${start} and bucket < ${end}
    group by b, client_node, client_kind, server_node, server_kind, server_port, proto, app, action, rule_id
  `.execute(db);
}

/** One run of the job: roll up what is complete, delete what expired. Safe to run twice. */
export async function runRollup(ctx: Context, lateness = LATENESS_MS): Promise<RollupResult> {
  const { retention } = await getSystemConfig(ctx);
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (tx) => {
    if (ctx.store.dialect === 'postgres') {
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${PG_LOCK}) as ok`.execute(tx);
      if (!lock.rows[0]?.ok) return { minutesRolled: 0, hoursRolled: 0, deleted: 0 };
    }
    const minuteEnd = floorTo(now - lateness, MINUTE);
    const prev = await rollupState(tx);
    const minuteStart = prev?.minute ?? floorTo((await oldestBucket(tx, RAW)) ?? minuteEnd, MINUTE);
    let minutesRolled = 0;
    if (minuteEnd > minuteStart) {
      await rollLevel(tx, RAW, MINUTE, minuteStart, minuteEnd);
      minutesRolled = (minuteEnd - minuteStart) / MINUTE;
    }
    const minute = Math.max(minuteStart, minuteEnd);

    const hourEnd = floorTo(minute, HOUR);
    const hourStart = prev?.hour ?? floorTo((await oldestBucket(tx, MINUTE)) ?? hourEnd, HOUR);
    let hoursRolled = 0;
    if (hourEnd > hourStart) {
      await rollLevel(tx, MINUTE, HOUR, hourStart, hourEnd);
      await rollEdges(tx, hourStart, hourEnd);
      hoursRolled = (hourEnd - hourStart) / HOUR;
    }
    const hour = Math.max(hourStart, hourEnd);
    await saveState(tx, { minute, hour });

    // A level's rows go only once they are rolled into the next one, whatever the retention says.
    const cutoffs: [number, number][] = [
      [RAW, Math.min(now - retention.rawMinutes * MINUTE, minute)],
      [MINUTE, Math.min(now - retention.minuteHours * HOUR, hour)],
      [HOUR, now - retention.hourDays * DAY],
    ];
    let deleted = 0;
    for (const [resolution, before] of cutoffs) {
      const r = await tx.deleteFrom('conversations').where('resolution', '=', resolution).where('bucket', '<', before).executeTakeFirst();
      deleted += Number(r.numDeletedRows);
    }
    // The group map's 5 s and minute rows are complete at ingest (no roll-up to wait for): 5 s
    // rows go with retention, minute rows once rolled into hours, like the conversations'.
    const edgeCutoffs: [number, number][] = [[RAW, now - retention.rawMinutes * MINUTE], cutoffs[1], cutoffs[2]];
    for (const [resolution, before] of edgeCutoffs) {
      const r = await tx.deleteFrom('graph_edges').where('resolution', '=', resolution).where('bucket', '<', before).executeTakeFirst();
      deleted += Number(r.numDeletedRows);
    }
    // Violations and threats are kept as long as the coarsest conversations.
    const oldest = now - retention.hourDays * DAY;
    deleted += Number((await tx.deleteFrom('violations').where('last_seen', '<', oldest).executeTakeFirst()).numDeletedRows);
    deleted += Number((await tx.deleteFrom('threats').where('last_seen', '<', oldest).executeTakeFirst()).numDeletedRows);
    deleted += Number((await tx.deleteFrom('report_batches').where('received_at', '<', now - REPORT_BATCH_HOLD_MS).executeTakeFirst()).numDeletedRows);
    return { minutesRolled, hoursRolled, deleted };
  });
}

/** Runs the job every `intervalMs` until the returned stop() is called. */
export function startRollup(ctx: Context, intervalMs = ROLLUP_INTERVAL_MS): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runRollup(ctx)
      .catch((err: unknown) => ctx.log(`rollup failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
