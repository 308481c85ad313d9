/**
 * GET /graph: the network map, aggregated on the server. Nodes are workloads (and outside
 * addresses) or, rolled up, service groups plus `external` and `nodes`; edges carry what flowed
 * between two nodes in the window. `level=auto` rolls up to groups when the workload map would
 * have more than AUTO_GROUP_NODES nodes, which a browser cannot lay out usefully anyway.
 *
 * The workload map sums conversations; the group map sums graph_edges, which ingest keeps per
 * group pair (a few thousand rows a minute where conversations are tens of thousands), so the
 * rolled-up map of a large estate answers in milliseconds while reports keep arriving.
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'kysely';
import { NODE_EXTERNAL, NODE_GROUP, NODE_HOST } from '../ingest/address-book.js';
import { policySnapshot, type PolicySnapshot } from '../policy/membership.js';
import { EXTERNAL, NODES, serviceGroupName } from '../policy/model.js';
import { getSystemConfig } from '../server/config.js';
import type { Context } from '../server/context.js';
import type { ApiPlugin } from './index.js';
import {
  edgeSegmentsFor,
  inSegments,
  portName,
  segmentCondition,
  segmentsFor,
  timeRange,
  Verdict,
  VERDICT_RANK,
  Window,
  type TimeRange,
} from './conversation-query.js';
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

/** One aggregated row of either map: what flowed from one node to another on a port, app, verdict and rule. */
interface FlowRow {
  server_port: number;
  proto: number;
  app: string;
  action: 'allow' | 'deny' | 'violate';
  rule_id: number;
  bytes: number | string;
  sessions: number | string;
  violations: number | string;
  last_seen: number | string;
}

class Edges {
  private readonly map = new Map<string, EdgeAcc>();

  add(from: string, to: string, r: FlowRow): void {
    const key = `${from}\n${to}`;
    let e = this.map.get(key);
    if (!e) {
      e = { from, to, ports: new Set(), apps: new Set(), bytes: 0, sessions: 0, violations: 0, rank: 0, lastSeen: 0, ruleIds: new Set() };
      this.map.set(key, e);
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

  list(): GraphEdge[] {
    return [...this.map.values()]
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
      }));
  }
}

const clientNode = sql<string>`case when client_workload = '' then client_ip else client_workload end`;
const serverNode = sql<string>`case when server_workload = '' then server_ip else server_workload end`;

/**
 * Whether the workload map of the window has more than `limit` nodes. Stops at the first
 * limit + 1 distinct nodes, so a large estate costs a few hundred rows, not the window's all.
 */
async function moreNodesThan(ctx: Context, range: TimeRange, limit: number): Promise<boolean> {
  const where = segmentCondition(await segmentsFor(ctx, range));
  const r = await sql<{ n: number | string }>`
    select count(*) as n from (
      select distinct node from (
        select ${clientNode} as node from conversations where ${where}
        union all
        select ${serverNode} as node from conversations where ${where}
      ) ends limit ${limit + 1}
    ) d`.execute(ctx.store.db);
  return Number(r.rows[0]?.n ?? 0) > limit;
}

interface GraphMap {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const byId = (a: GraphNode, b: GraphNode) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Workloads and outside addresses, from the conversations of the window. */
async function workloadMap(ctx: Context, range: TimeRange, snap: PolicySnapshot, defaultMode: 'monitor' | 'protect'): Promise<GraphMap> {
  const segments = await segmentsFor(ctx, range);
  // One row per workload pair (outside addresses as themselves) and port, app and verdict.
  const rows = await ctx.store.db
    .selectFrom('conversations')
    .where((eb) => inSegments(eb, segments))
    .select([clientNode.as('c'), serverNode.as('s'), sql<number>`min(case when client_workload = '' then 0 else 1 end)`.as('c_known'), sql<number>`min(case when server_workload = '' then 0 else 1 end)`.as('s_known')])
    .select(['server_port', 'proto', 'app', 'action', 'rule_id'])
    .select((eb) => [eb.fn.sum<number>('bytes').as('bytes'), eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('violations').as('violations'), eb.fn.max('last_seen').as('last_seen')])
    .groupBy([clientNode, serverNode, 'server_port', 'proto', 'app', 'action', 'rule_id'])
    .execute();

  const nodes = new Map<string, GraphNode>();
  const nodeOf = (id: string, known: boolean): string => {
    if (nodes.has(id)) return id;
    if (known) {
      const w = snap.workloads.get(id);
      const group = w ? serviceGroupName(w.service) : '';
      nodes.set(id, { id, kind: 'workload', name: w?.name ?? id, group, mode: w ? (snap.groups.get(group)?.mode ?? defaultMode) : null });
    } else if (snap.nodeIps.has(id)) nodes.set(id, { id, kind: 'host', name: id, group: NODES, mode: null });
    else nodes.set(id, { id, kind: 'external', name: id, group: EXTERNAL, mode: null });
    return id;
  };
  const edges = new Edges();
  for (const r of rows) edges.add(nodeOf(r.c, Number(r.c_known) === 1), nodeOf(r.s, Number(r.s_known) === 1), r);
  return { nodes: [...nodes.values()].sort(byId), edges: edges.list() };
}

/** Service groups, `nodes` and `external`, from the group map's pre-aggregated edges. */
async function groupMap(ctx: Context, range: TimeRange, snap: PolicySnapshot, defaultMode: 'monitor' | 'protect'): Promise<GraphMap> {
  const segments = await edgeSegmentsFor(ctx, range);
  const rows = await ctx.store.db
    .selectFrom('graph_edges')
    .where(segmentCondition(segments))
    .select(['client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id'])
    .select((eb) => [eb.fn.sum<number>('bytes').as('bytes'), eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('violations').as('violations'), eb.fn.max('last_seen').as('last_seen')])
    .groupBy(['client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id'])
    .execute();

  const nodes = new Map<string, GraphNode>();
  const group = (name: string): GraphNode => ({ id: name, kind: 'group', name, group: name, mode: snap.groups.get(name)?.mode ?? defaultMode });
  const nodeOf = (name: string, kind: number): string => {
    let n: GraphNode;
    if (kind === NODE_GROUP) n = group(name);
    else if (kind === NODE_EXTERNAL) n = { id: EXTERNAL, kind: 'external', name: EXTERNAL, group: EXTERNAL, mode: null };
    else if (kind === NODE_HOST) n = { id: NODES, kind: 'host', name: NODES, group: NODES, mode: null };
    else {
      // A workload the controller did not know when its traffic came in: its group if known now.
      const w = snap.workloads.get(name);
      n = w ? group(serviceGroupName(w.service)) : { id: name, kind: 'workload', name, group: '', mode: null };
    }
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const edges = new Edges();
  for (const r of rows) edges.add(nodeOf(r.client_node, Number(r.client_kind)), nodeOf(r.server_node, Number(r.server_kind)), r);
  return { nodes: [...nodes.values()].sort(byId), edges: edges.list() };
}

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
      const [snap, { defaultMode }] = await Promise.all([policySnapshot(ctx), getSystemConfig(ctx)]);
      const level =
        req.query.level === 'auto' ? ((await moreNodesThan(ctx, range, AUTO_GROUP_NODES)) ? 'group' : 'workload') : req.query.level;
      const map = level === 'group' ? await groupMap(ctx, range, snap, defaultMode) : await workloadMap(ctx, range, snap, defaultMode);
      return { level, since: range.since, until: range.until, ...map };
    },
  );
};

export default graph;
