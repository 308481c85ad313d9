/**
 * From the controller's graph to what the map draws: filters, then roll-up of collapsed groups
 * into one node each. Pure functions over plain arrays so they are tested without a canvas, and
 * so the expensive part (a pass over 10,000 edges) runs once per data or filter change, never per
 * frame.
 */
import type { Graph, GraphEdge, GraphNode, MapFilters, Mode, NodeKind, Verdict } from './types';

export interface ViewNode {
  /** Workload id or address; `group:<name>` for a rolled-up group. */
  id: string;
  kind: NodeKind;
  label: string;
  group: string;
  mode: Mode | null;
  /** Graph nodes stood for: 1, or the members of a rolled-up group. */
  members: GraphNode[];
  // Layout state (d3-force writes x/y/vx/vy; fx/fy pin a node).
  x: number;
  y: number;
  vx?: number;
  vy?: number;
  fx?: number | null;
  fy?: number | null;
  index?: number;
}

/** A graph edge between view nodes: its figures summed over the graph edges it stands for. */
export interface ViewEdge extends Omit<GraphEdge, 'from' | 'to'> {
  source: ViewNode;
  target: ViewNode;
  /** The graph edges this one aggregates (one unless groups are rolled up). */
  parts: GraphEdge[];
}

export interface MapScene {
  nodes: ViewNode[];
  /** Without edges inside one rolled-up group (they would be loops on one node). */
  edges: ViewEdge[];
  byId: Map<string, ViewNode>;
}

const RANK: Record<Verdict, number> = { allow: 0, violate: 1, deny: 2 };
const BY_RANK: Verdict[] = ['allow', 'violate', 'deny'];

export const groupNodeId = (group: string) => `group:${group}`;

/** Group names, applications and the node count of a graph, for the filter controls. */
export function facets(g: Graph): { groups: string[]; apps: string[] } {
  const groups = new Set<string>();
  const apps = new Set<string>();
  for (const n of g.nodes) if (n.group !== '') groups.add(n.group);
  for (const e of g.edges) for (const a of e.apps) apps.add(a);
  return { groups: [...groups].sort(), apps: [...apps].sort() };
}

function edgePasses(e: GraphEdge, f: MapFilters, nodes: Map<string, GraphNode>): boolean {
  if (f.verdicts.length > 0 && !f.verdicts.includes(e.verdict)) return false;
  if (f.apps.length > 0 && !e.apps.some((a) => f.apps.includes(a))) return false;
  if (f.groups.length > 0) {
    const a = nodes.get(e.from)?.group ?? '';
    const b = nodes.get(e.to)?.group ?? '';
    if (!f.groups.includes(a) && !f.groups.includes(b)) return false;
  }
  return true;
}

/**
 * The scene for a graph, filters and the set of collapsed groups. With a filter set, only nodes
 * on a passing edge are kept (plus, for a group filter, the idle members of those groups), so
 * the map shows what the filter asks about rather than every idle workload.
 */
export function buildScene(g: Graph, f: MapFilters, collapsed: ReadonlySet<string>): MapScene {
  const graphNodes = new Map(g.nodes.map((n) => [n.id, n]));
  const filtering = f.verdicts.length > 0 || f.apps.length > 0 || f.groups.length > 0;
  const edges = filtering ? g.edges.filter((e) => edgePasses(e, f, graphNodes)) : g.edges;

  const keep = new Set<string>();
  if (filtering) {
    for (const e of edges) keep.add(e.from).add(e.to);
    if (f.groups.length > 0) for (const n of g.nodes) if (f.groups.includes(n.group)) keep.add(n.id);
  }

  const byId = new Map<string, ViewNode>();
  const viewOf = new Map<string, ViewNode>();
  for (const n of g.nodes) {
    if (filtering && !keep.has(n.id)) continue;
    const rolled = n.group !== '' && collapsed.has(n.group);
    const id = rolled ? groupNodeId(n.group) : n.id;
    let v = byId.get(id);
    if (!v) {
      v = rolled
        ? { id, kind: n.kind === 'workload' || n.kind === 'group' ? 'group' : n.kind, label: n.group, group: n.group, mode: n.mode, members: [], x: 0, y: 0 }
        : { id, kind: n.kind, label: n.name, group: n.group, mode: n.mode, members: [], x: 0, y: 0 };
      byId.set(id, v);
    } else if (v.mode !== n.mode) {
      // Members of one service group share its mode; a mixed roll-up shows none.
      v.mode = null;
    }
    v.members.push(n);
    viewOf.set(n.id, v);
  }

  const merged = new Map<string, ViewEdge & { rank: number }>();
  for (const e of edges) {
    const s = viewOf.get(e.from);
    const t = viewOf.get(e.to);
    if (!s || !t || s === t) continue;
    const key = `${s.id}\n${t.id}`;
    const m = merged.get(key);
    if (!m) {
      merged.set(key, { source: s, target: t, ports: e.ports, apps: e.apps, bytes: e.bytes, sessions: e.sessions, violations: e.violations, verdict: e.verdict, lastSeen: e.lastSeen, ruleIds: e.ruleIds, parts: [e], rank: RANK[e.verdict] });
      continue;
    }
    m.ports = union(m.ports, e.ports);
    m.apps = union(m.apps, e.apps);
    m.ruleIds = [...new Set([...m.ruleIds, ...e.ruleIds])].sort((a, b) => a - b);
    m.bytes += e.bytes;
    m.sessions += e.sessions;
    m.violations += e.violations;
    m.rank = Math.max(m.rank, RANK[e.verdict]);
    m.verdict = BY_RANK[m.rank];
    m.lastSeen = Math.max(m.lastSeen, e.lastSeen);
    m.parts.push(e);
  }
  const outEdges: ViewEdge[] = [];
  for (const { rank: _rank, ...e } of merged.values()) outEdges.push(e);
  return { nodes: [...byId.values()], edges: outEdges, byId };
}

function union(a: string[], b: string[]): string[] {
  if (b.every((x) => a.includes(x))) return a;
  return [...new Set([...a, ...b])].sort();
}

/** Peers of a node in a scene: who it talks to and who talks to it, with the edge verdicts. */
export function peersOf(scene: MapScene, node: ViewNode): { peer: ViewNode; direction: 'out' | 'in'; edge: ViewEdge }[] {
  const out: { peer: ViewNode; direction: 'out' | 'in'; edge: ViewEdge }[] = [];
  for (const e of scene.edges) {
    if (e.source === node) out.push({ peer: e.target, direction: 'out', edge: e });
    else if (e.target === node) out.push({ peer: e.source, direction: 'in', edge: e });
  }
  return out;
}

/** Applications a node serves or uses, from its edges. */
export function appsOf(scene: MapScene, node: ViewNode): string[] {
  const apps = new Set<string>();
  for (const e of scene.edges) if (e.source === node || e.target === node) for (const a of e.apps) apps.add(a);
  return [...apps].sort();
}

/** Nodes whose label or id contains the text (case-insensitive), best (prefix) matches first. */
export function searchNodes(scene: MapScene, text: string, limit = 20): ViewNode[] {
  const q = text.trim().toLowerCase();
  if (q === '') return [];
  const hits = scene.nodes.filter((n) => n.label.toLowerCase().includes(q) || n.id.toLowerCase().includes(q));
  hits.sort((a, b) => Number(!a.label.toLowerCase().startsWith(q)) - Number(!b.label.toLowerCase().startsWith(q)) || a.label.localeCompare(b.label));
  return hits.slice(0, limit);
}
