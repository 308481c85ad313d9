/**
 * GET /graph: the network map, aggregated on the server. Nodes are workloads (and outside
 * addresses) or, rolled up, service groups plus `external` and `nodes`; edges carry what flowed
 * between two nodes in the window. `level=auto` rolls up to groups when the workload map would
 * have more than AUTO_GROUP_NODES nodes, which a browser cannot lay out usefully anyway.
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'kysely';
import { policySnapshot } from '../policy/membership.js';
import { EXTERNAL, NODES, serviceGroupName } from '../policy/model.js';
import { getSystemConfig } from '../server/config.js';
import type { ApiPlugin } from './index.js';
import { inSegments, portName, segmentsFor, timeRange, Verdict, VERDICT_RANK, Window } from './conversation-query.js';
import { ErrorResponses } from './schemas/common.js';

export const AUTO_GROUP_NODES = 500;

const NodeKind = Type.Union([Type.Literal('workload'), Type.Literal('group'), Type.Literal('external'), Type.Literal('host')]);

export const GraphNode = Type.Object({
  id: Type.String(),
  kind: NodeKind,
  name: Type.String(),
  group: Type.String({ description: 'service group of a workload; external or nodes for addresses' }),
  mode: Type.Union([Type.Literal('monitor'), Type.Literal('protect'), Type.Null()], { description: 'policy mode; null for addresses' }),
});
export type GraphNode = Static<typeof GraphNode>;

export const GraphEdge = Type.Object({
  from: Type.String(),
  to: Type.String(),
  ports: Type.Array(Type.String(), { description: 'server ports, e.g. tcp/80' }),
  apps: Type.Array(Type.String()),
  bytes: Type.Integer(),
  sessions: Type.Integer(),
  violations: Type.Integer(),
  verdict: Verdict,
  lastSeen: Type.Integer(),
  ruleIds: Type.Array(Type.Integer()),
});
export type GraphEdge = Static<typeof GraphEdge>;

const Graph = Type.Object({
  level: Type.Union([Type.Literal('workload'), Type.Literal('group')]),
  since: Type.Integer(),
  until: Type.Integer(),
  nodes: Type.Array(GraphNode),
  edges: Type.Array(GraphEdge),
});

const Query = Type.Object(
  {
    ...Window,
    level: Type.Union([Type.Literal('workload'), Type.Literal('group'), Type.Literal('auto')], { default: 'auto' }),
  },
  { additionalProperties: false },
);

interface EdgeAcc {
  from: string;
  to: string;
  ports: Set<string>;
  apps: Set<string>;
  bytes: number;
  sessions: number;
  violations: number;
  rank: number;
  lastSeen: number;
  ruleIds: Set<number>;
}

const VERDICTS = ['allow', 'violate', 'deny'] as const;

const graph: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/graph',
    {
      schema: {
        tags: ['connections'],
        summary: 'Nodes and edges of the network map in a time window (default the last 5 minutes)',
        querystring: Query,
        response: { 200: Graph, ...ErrorResponses },
      },
    },
    async (req) => {
      const range = timeRange(req.query, ctx.now(), 5 * 60_000);
      const [segments, snap, { defaultMode }] = await Promise.all([segmentsFor(ctx, range), policySnapshot(ctx), getSystemConfig(ctx)]);

      // One row per workload pair (outside addresses as themselves) and port, app and verdict.
      const clientNode = sql<string>`case when client_workload = '' then client_ip else client_workload end`;
      const serverNode = sql<string>`case when server_workload = '' then server_ip else server_workload end`;
      const rows = await ctx.store.db
        .selectFrom('conversations')
        .where((eb) => inSegments(eb, segments))
        .select([clientNode.as('c'), serverNode.as('s'), sql<number>`min(case when client_workload = '' then 0 else 1 end)`.as('c_known'), sql<number>`min(case when server_workload = '' then 0 else 1 end)`.as('s_known')])
        .select(['server_port', 'proto', 'app', 'action', 'rule_id'])
        .select((eb) => [eb.fn.sum<number>('bytes').as('bytes'), eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('violations').as('violations'), eb.fn.max('last_seen').as('last_seen')])
        .groupBy([clientNode, serverNode, 'server_port', 'proto', 'app', 'action', 'rule_id'])
        .execute();

      const nodes = new Map<string, GraphNode>();
      const workloadNode = (id: string): GraphNode => {
        const w = snap.workloads.get(id);
        const group = w ? serviceGroupName(w.service) : '';
        return { id, kind: 'workload', name: w?.name ?? id, group, mode: w ? (snap.groups.get(group)?.mode ?? defaultMode) : null };
      };
      const addressNode = (ip: string): GraphNode =>
        snap.nodeIps.has(ip) ? { id: ip, kind: 'host', name: ip, group: NODES, mode: null } : { id: ip, kind: 'external', name: ip, group: EXTERNAL, mode: null };
      const nodeOf = (id: string, known: boolean): string => {
        if (!nodes.has(id)) nodes.set(id, known ? workloadNode(id) : addressNode(id));
        return id;
      };
      for (const r of rows) {
        nodeOf(r.c, Number(r.c_known) === 1);
        nodeOf(r.s, Number(r.s_known) === 1);
      }

      const level = req.query.level === 'auto' ? (nodes.size > AUTO_GROUP_NODES ? 'group' : 'workload') : req.query.level;
      let toNode = (id: string) => id;
      let outNodes = nodes;
      if (level === 'group') {
        outNodes = new Map();
        toNode = (id) => {
          const n = nodes.get(id) as GraphNode;
          // A workload whose record is gone (stopped and purged) has no group left: it stays itself.
          const name = n.group === '' ? id : n.group;
          if (!outNodes.has(name)) {
            const kind = n.kind === 'workload' ? (n.group === '' ? 'workload' : 'group') : n.kind;
            outNodes.set(name, { id: name, kind, name, group: n.group, mode: kind === 'group' ? (snap.groups.get(name)?.mode ?? defaultMode) : n.mode });
          }
          return name;
        };
      }

      const edges = new Map<string, EdgeAcc>();
      for (const r of rows) {
        const from = toNode(r.c);
        const to = toNode(r.s);
        const key = `${from}\n${to}`;
        let e = edges.get(key);
        if (!e) {
          e = { from, to, ports: new Set(), apps: new Set(), bytes: 0, sessions: 0, violations: 0, rank: 0, lastSeen: 0, ruleIds: new Set() };
          edges.set(key, e);
        }
        e.ports.add(portName(r.proto, r.server_port));
        e.apps.add(r.app);
        e.bytes += Number(r.bytes);
        e.sessions += Number(r.sessions);
        e.violations += Number(r.violations);
        e.rank = Math.max(e.rank, VERDICT_RANK[r.action]);
        e.lastSeen = Math.max(e.lastSeen, Number(r.last_seen));
        e.ruleIds.add(Number(r.rule_id));
      }

      return {
        level,
        since: range.since,
        until: range.until,
        nodes: [...outNodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        edges: [...edges.values()]
          .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0))
          .map((e) => ({
          from: e.from,
          to: e.to,
          ports: [...e.ports].sort(),
          apps: [...e.apps].sort(),
          bytes: e.bytes,
          sessions: e.sessions,
          violations: e.violations,
          verdict: VERDICTS[e.rank],
          lastSeen: e.lastSeen,
          ruleIds: [...e.ruleIds].sort((a, b) => a - b),
        })),
      };
    },
  );
};

export default graph;
