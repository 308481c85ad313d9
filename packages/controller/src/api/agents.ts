/**
 * The agents that registered, with their state, how many workloads each reports and what its last
 * heartbeat said (data plane running, restarts, capture drops, problems).
 */
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { statusKey, type AgentStatus } from '../ingest/agents.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, PageOf, Paging } from './schemas/common.js';

const AgentState = Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('revoked')]);

const Agent = Type.Object({
  id: Type.String(),
  host: Type.String(),
  version: Type.String(),
  state: AgentState,
  registeredAt: Type.Integer(),
  lastSeen: Type.Integer(),
  policyRevision: Type.Integer({ description: 'last policy revision the agent applied' }),
  workloads: Type.Integer({ description: 'workloads the agent reports' }),
  status: Type.Union(
    [
      Type.Object({
        at: Type.Integer({ description: 'time of the heartbeat' }),
        workloads: Type.Integer({ description: 'workloads the agent monitors' }),
        protectedWorkloads: Type.Integer({ description: 'of those, in Protect mode' }),
        dataPlane: Type.Object({
          running: Type.Boolean(),
          restarts: Type.Integer({ description: 'times the agent restarted the data plane' }),
          packets: Type.Integer(),
          drops: Type.Integer({ description: 'frames the capture ring dropped' }),
          sessions: Type.Integer(),
        }),
        problems: Type.Array(Type.String(), { description: 'what the agent wants an operator to see; empty when healthy' }),
      }),
      Type.Null(),
    ],
    { description: 'the last heartbeat; null before the first one' },
  ),
});

const agents: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/agents',
    {
      schema: {
        tags: ['agents'],
        summary: 'List agents',
        querystring: Type.Object(
          { ...Paging, host: Type.Optional(Type.String({ maxLength: 256 })), state: Type.Optional(AgentState) },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(Agent), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, host, state } = req.query;
      let q = ctx.store.db.selectFrom('agents');
      if (host !== undefined) q = q.where('host', '=', host);
      if (state !== undefined) q = q.where('state', '=', state);
      const [rows, total] = await Promise.all([
        q
          .selectAll('agents')
          .select((eb) => eb.selectFrom('workloads').select(sql<number>`count(*)`.as('n')).whereRef('workloads.agent_id', '=', 'agents.id').as('workloads'))
          .orderBy('host')
          .orderBy('id')
          .limit(limit)
          .offset(offset)
          .execute(),
        q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
      ]);
      // One query for the page's heartbeat statuses, kept in the config table by the gRPC service.
      const statuses = new Map<string, AgentStatus>();
      if (rows.length > 0) {
        const keys = rows.map((r) => statusKey(r.id));
        const stored = await ctx.store.db.selectFrom('config').select(['key', 'value']).where('key', 'in', keys).execute();
        for (const row of stored) statuses.set(row.key, JSON.parse(row.value) as AgentStatus);
      }
      const statusOf = (id: string) => {
        const st = statuses.get(statusKey(id));
        return st ? { at: st.at, workloads: st.workloads, protectedWorkloads: st.protectedWorkloads, dataPlane: st.dataPlane, problems: st.problems } : null;
      };
      return {
        items: rows.map((r) => ({
          id: r.id,
          host: r.host,
          version: r.version,
          state: r.state,
          registeredAt: Number(r.registered_at),
          lastSeen: Number(r.last_seen),
          policyRevision: Number(r.policy_revision),
          workloads: Number(r.workloads ?? 0),
          status: statusOf(r.id),
        })),
        total: Number(total.n),
        limit,
        offset,
      };
    },
  );
};

export default agents;
