/** The agents that registered, with their state and how many workloads each reports. */
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
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
        })),
        total: Number(total.n),
        limit,
        offset,
      };
    },
  );
};

export default agents;
