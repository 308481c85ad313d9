/** GET /violations: de-duplicated policy violations (deny and violate), newest first. */
import { Type, type Static } from '@sinclair/typebox';
import type { ApiPlugin } from './index.js';
import { endpointIds, parseTime, Window } from './conversation-query.js';
import { ErrorResponses, PageOf, Paging } from './schemas/common.js';

export const ViolationItem = Type.Object({
  id: Type.Integer(),
  clientWorkload: Type.String(),
  serverWorkload: Type.String(),
  clientIp: Type.String(),
  serverIp: Type.String(),
  serverPort: Type.Integer(),
  proto: Type.Integer(),
  app: Type.String(),
  ruleId: Type.Integer({ description: 'deciding rule, 0 = the implicit deny' }),
  action: Type.Union([Type.Literal('deny'), Type.Literal('violate')]),
  enforcedBy: Type.String({ description: 'client, server or both: the end(s) whose policy decided' }),
  reportedBy: Type.String({ description: 'dp (data plane), nflog (kernel drop log) or both' }),
  count: Type.Integer({ description: 'violating sessions (or drops), counted once when both ends saw them' }),
  firstSeen: Type.Integer(),
  lastSeen: Type.Integer(),
});
export type ViolationItem = Static<typeof ViolationItem>;

const Filters = Type.Object(
  {
    ...Paging,
    ...Window,
    workload: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'either end: workload id, group name or external' })),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'client: workload id, group name or external' })),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'server: workload id, group name or external' })),
    action: Type.Optional(Type.Union([Type.Literal('deny'), Type.Literal('violate')])),
    rule: Type.Optional(Type.Integer({ minimum: 0, description: 'deciding rule id' })),
  },
  { additionalProperties: false },
);

const violations: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/violations',
    {
      schema: {
        tags: ['violations'],
        summary: 'Policy violations last seen in a time window (default: any time), newest first',
        querystring: Filters,
        response: { 200: PageOf(ViolationItem), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, workload, from, to, action, rule, since, until } = req.query;
      let q = ctx.store.db.selectFrom('violations');
      if (since !== undefined) q = q.where('last_seen', '>=', parseTime(since, 'query.since'));
      if (until !== undefined) q = q.where('last_seen', '<', parseTime(until, 'query.until'));
      if (workload !== undefined) {
        const ids = await endpointIds(ctx, workload, 'query.workload');
        if (ids.length === 0) return { items: [], total: 0, limit, offset };
        q = q.where((eb) => eb.or([eb('client_workload', 'in', ids), eb('server_workload', 'in', ids)]));
      }
      for (const [value, column, field] of [[from, 'client_workload', 'query.from'], [to, 'server_workload', 'query.to']] as const) {
        if (value === undefined) continue;
        const ids = await endpointIds(ctx, value, field);
        if (ids.length === 0) return { items: [], total: 0, limit, offset };
        q = q.where(column, 'in', ids);
      }
      if (action !== undefined) q = q.where('action', '=', action);
      if (rule !== undefined) q = q.where('rule_id', '=', rule);
      const [rows, total] = await Promise.all([
        q.selectAll().orderBy('last_seen', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      const items = rows.map(
        (r): ViolationItem => ({
          id: Number(r.id),
          clientWorkload: r.client_workload,
          serverWorkload: r.server_workload,
          clientIp: r.client_ip,
          serverIp: r.server_ip,
          serverPort: r.server_port,
          proto: r.proto,
          app: r.app,
          ruleId: Number(r.rule_id),
          action: r.action,
          enforcedBy: r.enforced_by,
          reportedBy: r.reported_by,
          count: Number(r.count),
          firstSeen: Number(r.first_seen),
          lastSeen: Number(r.last_seen),
        }),
      );
      return { items, total: Number(total.n), limit, offset };
    },
  );
};

export default violations;
