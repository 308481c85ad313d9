/** Health (no token), the dashboard summary and the system configuration. */
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { MsegError } from '../errors.js';
import { RAW_BUCKET_MS } from '../ingest/batch.js';
import { RAW } from '../ingest/rollup.js';
import { getSystemConfig, patchSystemConfig, SystemConfig, SystemConfigPatch } from '../server/config.js';
import type { Context } from '../server/context.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses } from './schemas/common.js';

const FIVE_MIN = 5 * 60_000;
const DAY = 24 * 3_600_000;

const Summary = Type.Object({
  agents: Type.Object({ online: Type.Integer(), total: Type.Integer() }),
  workloads: Type.Object({ running: Type.Integer(), total: Type.Integer() }),
  groups: Type.Integer(),
  rules: Type.Integer(),
  connections5m: Type.Integer({ description: 'distinct connections seen in the last 5 minutes' }),
  violations24h: Type.Integer({ description: 'distinct violations seen in the last 24 hours' }),
  threats24h: Type.Integer({ description: 'distinct threats seen in the last 24 hours' }),
  time: Type.Integer(),
});

/**
 * Raw conversation rows last seen at or after `since`. A raw row's bucket is its last_seen's 5 s
 * slot, so every row of a later bucket counts and only the slot `since` falls in needs its
 * last_seen read: the rest is counted from the key index alone, without a table lookup per row.
 */
async function recentConversations(ctx: Context, since: number): Promise<{ n: number }> {
  const first = since - (since % RAW_BUCKET_MS);
  const r = await sql<{ n: number | string }>`select
      (select count(*) from conversations where resolution = ${RAW} and bucket > ${first})
      + (select count(*) from conversations where resolution = ${RAW} and bucket = ${first} and last_seen >= ${since}) as n`.execute(ctx.store.db);
  return { n: Number(r.rows[0].n) };
}

const system: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: { tags: ['system'], summary: 'Liveness and store reachability', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => {
      try {
        await sql`select 1`.execute(ctx.store.db);
      } catch (e) {
        throw new MsegError('MSEG_ERR_STORE_UNAVAILABLE', undefined, undefined, { cause: e });
      }
      return { status: 'ok' as const };
    },
  );

  app.get(
    '/system/summary',
    { schema: { tags: ['system'], summary: 'Counts for the dashboard', response: { 200: Summary, ...ErrorResponses } } },
    async () => {
      const db = ctx.store.db;
      const now = ctx.now();
      const count = sql<number>`count(*)`;
      const [agents, workloads, groups, rules, conns, viols, threats] = await Promise.all([
        db.selectFrom('agents').select([count.as('total'), sql<number>`coalesce(sum(case when state = 'online' then 1 else 0 end), 0)`.as('online')]).executeTakeFirstOrThrow(),
        db.selectFrom('workloads').select([count.as('total'), sql<number>`coalesce(sum(case when state = 'running' then 1 else 0 end), 0)`.as('running')]).executeTakeFirstOrThrow(),
        db.selectFrom('groups').select(count.as('n')).executeTakeFirstOrThrow(),
        db.selectFrom('rules').select(count.as('n')).executeTakeFirstOrThrow(),
        recentConversations(ctx, now - FIVE_MIN),
        db.selectFrom('violations').select(count.as('n')).where('last_seen', '>=', now - DAY).executeTakeFirstOrThrow(),
        db.selectFrom('threats').select(count.as('n')).where('last_seen', '>=', now - DAY).executeTakeFirstOrThrow(),
      ]);
      return {
        agents: { online: Number(agents.online), total: Number(agents.total) },
        workloads: { running: Number(workloads.running), total: Number(workloads.total) },
        groups: Number(groups.n),
        rules: Number(rules.n),
        connections5m: Number(conns.n),
        violations24h: Number(viols.n),
        threats24h: Number(threats.n),
        time: now,
      };
    },
  );

  app.get(
    '/system/config',
    { schema: { tags: ['system'], summary: 'System configuration', response: { 200: SystemConfig, ...ErrorResponses } } },
    async () => getSystemConfig(ctx),
  );

  app.patch(
    '/system/config',
    {
      schema: {
        tags: ['system'],
        summary: 'Change the default mode of new service groups, retention or the token lifetime',
        body: SystemConfigPatch,
        response: { 200: SystemConfig, ...ErrorResponses },
      },
    },
    async (req) => patchSystemConfig(ctx, req.body),
  );
};

export default system;
