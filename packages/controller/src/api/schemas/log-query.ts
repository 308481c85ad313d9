/**
 * What the list routes over traffic logs (/connections, /violations, /threats) share: their
 * querystring (paging, a time window, endpoint filters), resolving endpoint filters to workload
 * ids, and for the de-duplicated logs the time filter on last_seen and a newest-first page.
 * Every error names the query field at fault.
 */
import { Type, type TProperties } from '@sinclair/typebox';
import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Context } from '../../server/context.js';
import type { Database } from '../../store/schema.js';
import { endpointIds, parseTime, Window } from '../conversation-query.js';
import { Paging, type Page } from './common.js';

/** Spread into an item schema: the conversation a log item is about. */
export const Flow = {
  clientWorkload: Type.String({ description: "client workload id, '' for an outside address" }),
  serverWorkload: Type.String({ description: "server workload id, '' for an outside address" }),
  clientIp: Type.String(),
  serverIp: Type.String(),
  serverPort: Type.Integer(),
  proto: Type.Integer({ description: 'IP protocol number' }),
  app: Type.String(),
  ruleId: Type.Integer({ description: 'deciding rule, 0 = the implicit deny' }),
  enforcedBy: Type.Union([Type.Literal('client'), Type.Literal('server'), Type.Literal('both')], { description: 'the end(s) whose policy decided' }),
};

/** A querystring: paging, a time window and the route's own filters; nothing else accepted. */
export function LogQuery<T extends TProperties>(filters: T) {
  return Type.Object({ ...Paging, ...Window, ...filters }, { additionalProperties: false });
}

/** An endpoint filter: a workload id, a group name or `external`. */
export function Endpoint(description: string) {
  return Type.Optional(Type.String({ minLength: 1, maxLength: 256, description }));
}

export function emptyPage<T>({ limit, offset }: { limit: number; offset: number }): Page<T> {
  return { items: [], total: 0, limit, offset };
}

/**
 * The workload ids each given endpoint filter stands for (undefined where the filter is not set),
 * or null when one matches no workload: the answer is then an empty page.
 */
export async function resolveEndpoints<K extends string>(
  ctx: Context,
  query: Partial<Record<K, string>>,
  fields: readonly K[],
): Promise<Partial<Record<K, string[]>> | null> {
  const out: Partial<Record<K, string[]>> = {};
  for (const field of fields) {
    const value = query[field];
    if (value === undefined) continue;
    const ids = await endpointIds(ctx, value, `query.${field}`);
    if (ids.length === 0) return null;
    out[field] = ids;
  }
  return out;
}

/** The de-duplicated logs: one row per repeated event, with an id and when it was last seen. */
type LogTable = 'violations' | 'threats';

/** Rows last seen in [since, until). */
export function lastSeenIn<T extends LogTable>(q: SelectQueryBuilder<Database, T, object>, query: { since?: string; until?: string }) {
  let out = q;
  if (query.since !== undefined) out = out.where(sql.ref('last_seen'), '>=', parseTime(query.since, 'query.since'));
  if (query.until !== undefined) out = out.where(sql.ref('last_seen'), '<', parseTime(query.until, 'query.until'));
  return out;
}

/** A page of the matching rows, newest first, and how many match over all pages. */
export async function newestFirst<T extends LogTable, I>(
  q: SelectQueryBuilder<Database, T, object>,
  { limit, offset }: { limit: number; offset: number },
  item: (row: Selectable<Database[T]>) => I,
): Promise<Page<I>> {
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy(sql.ref('last_seen'), 'desc').orderBy(sql.ref('id'), 'desc').limit(limit).offset(offset).execute(),
    q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  // selectAll() over a table type parameter is a type kysely cannot resolve: these are its rows.
  return { items: (rows as unknown as Selectable<Database[T]>[]).map(item), total: Number(total.n), limit, offset };
}
