/**
 * Force layout of the map with positions that survive refreshes. The simulation is never run on
 * d3's own timer: the map steps it from its animation frame within a time budget, draws, and
 * stops it once it has settled, so an idle map costs nothing. Positions are kept by node id in
 * memory and in sessionStorage; nodes seen before start where they were and are pinned while the
 * new ones settle around them, so a refresh does not reshuffle the picture.
 */
import { forceCollide, forceLink, forceManyBody, forceSimulation, forceX, forceY, type Simulation } from 'd3-force';
import type { ViewEdge, ViewNode } from './model';

export interface Point {
  x: number;
  y: number;
}

const STORAGE_KEY = 'mseg.map.positions';
/** A simulation below this alpha has settled (d3's own default alphaMin). */
const ALPHA_MIN = 0.001;

/** A stable pseudo-random number in [0, 1) for a string, so unseen nodes start at the same spot every time. */
export function hashUnit(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/**
 * Storage writes wait this long for more changes: a drag moves a node on every pointer event, and
 * each write serializes every remembered position.
 */
export const WRITE_DELAY_MS = 300;

export class PositionStore {
  private readonly positions = new Map<string, Point>();
  private writeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly storage: Storage | null) {
    if (!storage) return;
    // A page left right after a drag still keeps it.
    if (typeof window !== 'undefined') window.addEventListener('pagehide', () => this.flush());
    try {
      const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as Record<string, [number, number]>;
      for (const [id, [x, y]] of Object.entries(saved)) if (Number.isFinite(x) && Number.isFinite(y)) this.positions.set(id, { x, y });
    } catch {
      // A corrupt entry only costs the remembered layout.
    }
  }

  get(id: string): Point | undefined {
    return this.positions.get(id);
  }

  /** Remembers the nodes' positions now; storage gets them at most WRITE_DELAY_MS later. */
  save(nodes: readonly ViewNode[]): void {
    for (const n of nodes) this.positions.set(n.id, { x: n.x, y: n.y });
    if (!this.storage || this.writeTimer) return;
    this.writeTimer = setTimeout(() => this.flush(), WRITE_DELAY_MS);
  }

  /** Writes the remembered positions to storage now. */
  flush(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    if (!this.storage) return;
    const out: Record<string, [number, number]> = {};
    for (const [id, p] of this.positions) out[id] = [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10];
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify(out));
    } catch {
      // Storage full or denied: positions still live in memory for this page.
    }
  }
}

/**
 * Sets start positions: the remembered one; else next to a remembered neighbour (a workload that
 * appears joins its peers), else next to its rolled-up group or members; else a spot on a disc
 * picked by its id's hash. Returns how many nodes had a remembered position.
 */
export function seedPositions(nodes: ViewNode[], edges: ViewEdge[], store: PositionStore): number {
  let known = 0;
  const placed = new Set<ViewNode>();
  const radius = 30 * Math.sqrt(nodes.length + 1);
  for (const n of nodes) {
    const p = store.get(n.id) ?? (n.members.length > 1 ? centroid(n.members.map((m) => store.get(m.id))) : store.get(`group:${n.group}`));
    if (!p) continue;
    n.x = p.x;
    n.y = p.y;
    placed.add(n);
    if (store.get(n.id)) known++;
  }
  for (const e of edges) {
    for (const [a, b] of [[e.source, e.target], [e.target, e.source]] as const) {
      if (placed.has(a) || !placed.has(b)) continue;
      const angle = hashUnit(a.id) * 2 * Math.PI;
      a.x = b.x + 25 * Math.cos(angle);
      a.y = b.y + 25 * Math.sin(angle);
      placed.add(a);
    }
  }
  for (const n of nodes) {
    if (placed.has(n)) continue;
    const angle = hashUnit(n.id) * 2 * Math.PI;
    const r = radius * Math.sqrt(hashUnit(`${n.id}#r`));
    n.x = r * Math.cos(angle);
    n.y = r * Math.sin(angle);
  }
  return known;
}

function centroid(points: (Point | undefined)[]): Point | undefined {
  const ps = points.filter((p): p is Point => p !== undefined);
  if (ps.length === 0) return undefined;
  return { x: ps.reduce((s, p) => s + p.x, 0) / ps.length, y: ps.reduce((s, p) => s + p.y, 0) / ps.length };
}

export class MapLayout {
  private sim: Simulation<ViewNode, ViewEdge> | null = null;
  private nodes: ViewNode[] = [];

  constructor(private readonly store: PositionStore) {}

  /** Starts laying out a new scene; call step() from animation frames until it returns false. */
  start(nodes: ViewNode[], edges: ViewEdge[]): void {
    // A refresh during a layout keeps where the old scene's nodes had got to.
    if (this.sim) this.finish();
    this.nodes = nodes;
    const known = seedPositions(nodes, edges, this.store);
    // Mostly remembered: pin those and let only the newcomers move, gently.
    const settled = nodes.length > 0 && known >= nodes.length / 2;
    for (const n of nodes) {
      const pin = settled && this.store.get(n.id) !== undefined;
      n.fx = pin ? n.x : null;
      n.fy = pin ? n.y : null;
    }
    const big = nodes.length > 500;
    this.sim = forceSimulation<ViewNode, ViewEdge>(nodes)
      .stop()
      .alpha(settled ? (known === nodes.length ? 0 : 0.3) : 1)
      .alphaMin(ALPHA_MIN)
      // Faster cooling for large maps: the picture is readable long before full convergence.
      .alphaDecay(big ? 0.05 : 0.0228)
      .force('link', forceLink<ViewNode, ViewEdge>(edges).distance(40).strength(big ? 0.05 : 0.3))
      .force('charge', forceManyBody<ViewNode>().strength(big ? -25 : -80).theta(0.9).distanceMax(big ? 250 : 600))
      .force('collide', forceCollide<ViewNode>(8))
      .force('x', forceX<ViewNode>(0).strength(0.04))
      .force('y', forceY<ViewNode>(0).strength(0.04));
  }

  /** Runs ticks for up to budgetMs; false once settled (positions are then saved). */
  step(budgetMs: number): boolean {
    const sim = this.sim;
    if (!sim) return false;
    const end = performance.now() + budgetMs;
    do {
      if (sim.alpha() < ALPHA_MIN) {
        this.finish();
        return false;
      }
      sim.tick();
    } while (performance.now() < end);
    return true;
  }

  /** Ends the simulation now, keeping the current positions. */
  finish(): void {
    if (!this.sim) return;
    this.sim.stop();
    this.sim = null;
    for (const n of this.nodes) {
      n.fx = null;
      n.fy = null;
    }
    this.store.save(this.nodes);
  }

  get running(): boolean {
    return this.sim !== null;
  }

  /** Moves a node by hand (dragging); it stays where it is dropped. */
  place(n: ViewNode, p: Point): void {
    n.x = p.x;
    n.y = p.y;
    this.store.save([n]);
  }
}
