/**
 * What /connections, /graph and /stats share: time-window parsing, the choice of conversation
 * resolution for a window, and endpoint filters (a workload id, a group name or `external`).
 */
import { Type } from '@sinclair/typebox';
import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import { RAW_BUCKET_MS } from '../ingest/batch.js';
import { HOUR, MINUTE, RAW, rollupState } from '../ingest/rollup.js';
import { isMsegError, MsegError } from '../errors.js';
import { workloadsInGroup } from '../policy/membership.js';
import { EXTERNAL } from '../policy/model.js';
import { getSystemConfig } from '../server/config.js';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';

/** Querystring fields of a time window: ms since the epoch or an ISO 8601 time. */
export const Window = {
  since: Type.Optional(Type.String({ maxLength: 40, description: 'from this time: ms since the epoch or ISO 8601' })),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'up to this time (default now): ms since the epoch or ISO 8601' })),
};

export const Verdict = Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('violate')]);

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseTime(text: string, field: string): number {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const t = ISO.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(t)) throw new MsegError('MSEG_ERR_VALIDATION', `${field}: must be ms since the epoch or an ISO 8601 time`, field);
  return t;
}

export interface TimeRange {
  since: number;
  until: number;
  /** The window ends now (no `until` given): nothing is stored after its end yet. */
  open?: boolean;
}

export function timeRange(q: { since?: string; until?: string }, now: number, defaultSpanMs: number): TimeRange {
  const until = q.until === undefined ? now : parseTime(q.until, 'query.until');
  const since = q.since === undefined ? until - defaultSpanMs : parseTime(q.since, 'query.since');
  if (since >= until) throw new MsegError('MSEG_ERR_VALIDATION', 'query.since: must be before until', 'query.since');
  return { since, until, open: q.until === undefined };
}

/** Rows of one resolution with buckets in [from, to). */
export interface Segment {
  resolution: number;
  from: number;
  to: number;
}

const floorTo = (t: number, step: number) => t - (t % step);

/**
 * The rows that cover [since, until) once: the coarsest resolution the window calls for (raw up
 * to 15 min, minutes up to two days, else hours) where it is rolled up, and finer rows after
 * each level's watermark. Raw rows are left out where retention has removed them anyway.
 */
export async function segmentsFor(ctx: Context, r: TimeRange): Promise<Segment[]> {
  const state = (await rollupState(ctx.store.db)) ?? { minute: 0, hour: 0 };
  const { retention } = await getSystemConfig(ctx);
  const span = r.until - r.since;
  const rawFrom = ctx.now() - retention.rawMinutes * MINUTE;
  const coarsest = span > 48 * HOUR ? HOUR : span > 15 * MINUTE || r.since < rawFrom ? MINUTE : RAW;
  const out: Segment[] = [];
  let from = r.since;
  if (coarsest === HOUR) {
    from = floorTo(from, HOUR);
    out.push({ resolution: HOUR, from, to: Math.min(r.until, state.hour) });
    from = Math.max(from, state.hour);
  }
  if (coarsest !== RAW) {
    from = floorTo(from, MINUTE);
    out.push({ resolution: MINUTE, from, to: Math.min(r.until, state.minute) });
    from = Math.max(from, state.minute);
  }
  out.push({ resolution: RAW, from: floorTo(from, RAW_BUCKET_MS), to: r.until });
  return out.filter((s) => s.to > s.from);
}

/**
 * The group map's rows that cover [since, until) once (graph_edges: 5 s and minute rows are
 * written at ingest, hours rolled up below the hour watermark): whole minutes from minute rows,
 * the partial minutes at either end from 5 s rows while retention keeps them (else whole), and for windows of
 * more than two days whole hours from hour rows where they are rolled up.
 */
export async function edgeSegmentsFor(ctx: Context, r: TimeRange): Promise<Segment[]> {
  const state = (await rollupState(ctx.store.db)) ?? { minute: 0, hour: 0 };
  const { retention } = await getSystemConfig(ctx);
  const rawFrom = ctx.now() - retention.rawMinutes * MINUTE;
  const out: Segment[] = [];
  let from = r.since;
  if (r.until - r.since > 48 * HOUR) {
    from = floorTo(from, HOUR);
    const to = Math.max(from, Math.min(floorTo(r.until, HOUR), state.hour));
    out.push({ resolution: HOUR, from, to });
    from = to;
  }
  if (from % MINUTE !== 0) {
    if (from < rawFrom) from = floorTo(from, MINUTE);
    else {
      const to = Math.min(floorTo(from, MINUTE) + MINUTE, r.until);
      out.push({ resolution: RAW, from: floorTo(from, RAW_BUCKET_MS), to });
      from = to;
    }
  }
  const lastMinute = floorTo(r.until, MINUTE);
  // A window that ends now takes its current minute from the minute row, which ingest keeps
  // complete: the same sums as the 5 s rows (nothing is stored past now), a twelfth of the rows.
  if (r.open && from <= lastMinute && r.until > lastMinute) {
    out.push({ resolution: MINUTE, from, to: lastMinute + MINUTE });
    return out.filter((s) => s.to > s.from);
  }
  // The last partial minute from 5 s rows, or whole when retention has removed them.
  const minutesTo = Math.max(from, lastMinute >= rawFrom || lastMinute === r.until ? lastMinute : lastMinute + MINUTE);
  out.push({ resolution: MINUTE, from, to: minutesTo });
  out.push({ resolution: RAW, from: minutesTo, to: r.until });
  return out.filter((s) => s.to > s.from);
}

/** `segments` as a condition on a table with resolution and bucket columns. */
export function segmentCondition(segments: Segment[]): RawBuilder<SqlBool> {
  if (segments.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`(${sql.join(
    segments.map((s) => sql`(resolution = ${s.resolution} and bucket >= ${s.from} and bucket < ${s.to})`),
    sql` or `,
  )})`;
}

type Eb = ExpressionBuilder<Database, 'conversations'>;

export function inSegments(eb: Eb, segments: Segment[]): Expression<SqlBool> {
  if (segments.length === 0) return sql<SqlBool>`1 = 0`;
  return eb.or(segments.map((s) => eb.and([eb('resolution', '=', s.resolution), eb('bucket', '>=', s.from), eb('bucket', '<', s.to)])));
}

/** Bucket width of a resolution: every stored bucket is a multiple of it (raw rows per 5 s slot, roll-ups per minute or hour). */
export const bucketStep = (resolution: number): number => (resolution === RAW ? RAW_BUCKET_MS : resolution);

/**
 * Past this many buckets a segment is read as a range: each listed bucket costs an index seek per
 * workload, and such windows (weeks of hours) are rare.
 */
export const MAX_LISTED_BUCKETS = 4_000;

/** The buckets in [from, to) of a resolution, or null when there are more than MAX_LISTED_BUCKETS. */
export function bucketsIn(resolution: number, from: number, to: number): number[] | null {
  const step = bucketStep(resolution);
  const first = Math.ceil(from / step) * step;
  if ((to - first) / step > MAX_LISTED_BUCKETS) return null;
  const out: number[] = [];
  for (let b = first; b < to; b += step) out.push(b);
  return out;
}

/** `bucket in (…)` with the numbers inlined (no parameter per bucket), or the range when there are too many. */
export function bucketCondition(resolution: number, from: number, to: number): RawBuilder<SqlBool> {
  const list = bucketsIn(resolution, from, to);
  if (list === null) return sql<SqlBool>`bucket >= ${from} and bucket < ${to}`;
  if (list.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`bucket in (${sql.join(list.map((b) => sql.lit(b)))})`;
}

/**
 * `segments` narrowed to the buckets that hold rows (two index seeks each), so a listed window
 * costs seeks where there is data: a new store's default hour would list 720 raw buckets, most
 * of them empty. Selects the same rows.
 */
export async function storedPart(ctx: Context, segments: Segment[]): Promise<Segment[]> {
  const out: Segment[] = [];
  for (const s of segments) {
    const r = await sql<{ lo: number | string | null; hi: number | string | null }>`select
        (select min(bucket) from conversations where resolution = ${s.resolution} and bucket >= ${s.from} and bucket < ${s.to}) as lo,
        (select max(bucket) from conversations where resolution = ${s.resolution} and bucket >= ${s.from} and bucket < ${s.to}) as hi`.execute(ctx.store.db);
    const { lo, hi } = r.rows[0];
    if (lo !== null && hi !== null) out.push({ resolution: s.resolution, from: Number(lo), to: Number(hi) + 1 });
  }
  return out;
}

/** Workload ids an endpoint filter of a conversation query stands for (absent: any). */
export interface EndFilter {
  client?: string[];
  server?: string[];
}

/**
 * `segments` and the workload filters as one condition the indexes seek by: the key index
 * (resolution, bucket, client_workload, …) and conversations_server (resolution, bucket,
 * server_workload) put the bucket before the workload, so each segment names its buckets
 * (`bucket in (…)`) and SQLite and PostgreSQL look up each (bucket, workload) pair instead of
 * reading the whole window to find the few workloads'. Without a filter this is inSegments.
 */
export function inSegmentsFor(eb: Eb, segments: Segment[], ends: EndFilter): Expression<SqlBool> {
  if (!ends.client && !ends.server) return inSegments(eb, segments);
  if (segments.length === 0) return sql<SqlBool>`1 = 0`;
  const workloads: Expression<SqlBool>[] = [];
  if (ends.client) workloads.push(eb('client_workload', 'in', ends.client));
  if (ends.server) workloads.push(eb('server_workload', 'in', ends.server));
  return eb.or(segments.map((s) => eb.and([eb('resolution', '=', s.resolution), bucketCondition(s.resolution, s.from, s.to), ...workloads])));
}

/** Workload ids an endpoint filter stands for; [''] for `external` (no known workload). */
export async function endpointIds(ctx: Context, value: string, field: string): Promise<string[]> {
  if (value === EXTERNAL) return [''];
  const w = await ctx.store.db.selectFrom('workloads').select('id').where('id', '=', value).executeTakeFirst();
  if (w) return [w.id];
  try {
    return await workloadsInGroup(ctx, value);
  } catch (e) {
    if (isMsegError(e) && e.code === 'MSEG_ERR_NOT_FOUND') throw new MsegError('MSEG_ERR_NOT_FOUND', `${field}: no workload or group "${value}"`, field);
    throw e;
  }
}

/** Verdict severity for "worst of": deny > violate > allow. */
export const VERDICT_RANK: Record<string, number> = { allow: 0, violate: 1, deny: 2 };

/** `tcp/80`, `udp/53`, `icmp`, or `ip/<n>`: the rule ports grammar's names for a server port. */
export function portName(proto: number, port: number): string {
  if (proto === 6) return `tcp/${port}`;
  if (proto === 17) return `udp/${port}`;
  if (proto === 1 || proto === 58) return 'icmp';
  return `ip/${proto}`;
}
