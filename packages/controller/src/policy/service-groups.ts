/**
 * Groups the controller makes itself: the reserved ones at start, and one service group
 * (`svc.<service>`) per service as workloads of it are reported. Service groups carry the policy
 * mode; a new one takes the system's default mode (config key `defaultMode`), else monitor.
 */
import type { Kysely } from 'kysely';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';
import { type Criterion, type Mode, RESERVED_COMMENTS, RESERVED_GROUPS, serviceGroupName } from './model.js';
import { bumpPolicyRevision } from './revision.js';

export async function defaultMode(db: Kysely<Database>): Promise<Mode> {
  const row = await db.selectFrom('config').select('value').where('key', '=', 'defaultMode').executeTakeFirst();
  const v = row ? (JSON.parse(row.value) as unknown) : null;
  return v === 'protect' ? 'protect' : 'monitor';
}

/** Creates the reserved groups if missing. Idempotent; run at every start. */
export async function ensureReservedGroups(ctx: Context): Promise<void> {
  const now = ctx.now();
  await ctx.store.db
    .insertInto('groups')
    .values(RESERVED_GROUPS.map((name) => ({ name, comment: RESERVED_COMMENTS[name], criteria: '[]', kind: 'reserved' as const, mode: null, created_at: now, updated_at: now })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/**
 * Creates the service groups of `services` that do not exist yet, with the default mode.
 * Given `tx`, works inside the caller's transaction and leaves the 'policy' event to the caller
 * (after its commit); else runs its own and emits. Returns the names created and, when any were,
 * the new revision.
 */
export async function ensureServiceGroups(
  ctx: Context,
  services: string[],
  tx?: Kysely<Database>,
): Promise<{ created: string[]; revision: number | null }> {
  const wanted = [...new Set(services.filter((s) => s !== ''))];
  if (wanted.length === 0) return { created: [], revision: null };
  const run = async (db: Kysely<Database>) => {
    const names = wanted.map(serviceGroupName);
    const existing = new Set<string>();
    // Chunked so a host reporting thousands of services stays under the drivers' parameter limits.
    for (let i = 0; i < names.length; i += 500) {
      const rows = await db.selectFrom('groups').select('name').where('name', 'in', names.slice(i, i + 500)).execute();
      for (const r of rows) existing.add(r.name);
    }
    const missing = wanted.filter((s) => !existing.has(serviceGroupName(s)));
    if (missing.length === 0) return { created: [], revision: null };
    const mode = await defaultMode(db);
    const now = ctx.now();
    for (let i = 0; i < missing.length; i += 500) {
      await db
        .insertInto('groups')
        .values(
          missing.slice(i, i + 500).map((s) => ({
            name: serviceGroupName(s),
            comment: `workloads of service ${s}`,
            criteria: JSON.stringify([{ key: 'service', op: '=', value: s } satisfies Criterion]),
            kind: 'service' as const,
            mode,
            created_at: now,
            updated_at: now,
          })),
        )
        // Another replica may have made the same group meanwhile; its row is as good as ours.
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    }
    return { created: missing.map(serviceGroupName), revision: await bumpPolicyRevision(db) };
  };
  if (tx) return run(tx);
  const out = await ctx.store.db.transaction().execute(run);
  if (out.revision !== null) ctx.events.emit('policy', { revision: out.revision });
  return out;
}
