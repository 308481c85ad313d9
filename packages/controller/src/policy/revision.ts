/**
 * The policy revision: one counter (config key `policy_revision`) bumped inside the same
 * transaction as every change to groups, rules, modes or workloads, then announced on the event
 * bus after commit. Agents' watch streams carry it and skip revisions they already applied.
 */
import { sql, type Kysely } from 'kysely';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';

export const REVISION_KEY = 'policy_revision';

/**
 * Increments the revision and returns the new value. One upsert, so concurrent writers (two
 * controller replicas on PostgreSQL) serialise on the row instead of reading the same old value.
 */
export async function bumpPolicyRevision(db: Kysely<Database>): Promise<number> {
  const row = await db
    .insertInto('config')
    .values({ key: REVISION_KEY, value: '1' })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: sql<string>`cast(cast(config.value as bigint) + 1 as text)` }))
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export async function currentRevision(ctx: Pick<Context, 'store'>): Promise<number> {
  const row = await ctx.store.db.selectFrom('config').select('value').where('key', '=', REVISION_KEY).executeTakeFirst();
  return row ? Number(row.value) : 0;
}

/**
 * Runs `work` in a transaction that also bumps the revision, then tells listeners (watch
 * streams, the compile cache, other replicas through the PostgreSQL bridge).
 */
export async function policyChange<T>(ctx: Context, work: (tx: Kysely<Database>) => Promise<T>): Promise<{ result: T; revision: number }> {
  const out = await ctx.store.db.transaction().execute(async (tx) => {
    const result = await work(tx);
    return { result, revision: await bumpPolicyRevision(tx) };
  });
  ctx.events.emit('policy', { revision: out.revision });
  return out;
}
