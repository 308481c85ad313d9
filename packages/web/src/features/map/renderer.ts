/**
 * Canvas drawing and hit-testing of the map. Drawing is batched: edges go into one path per
 * (verdict, width) bucket and nodes into one path per colour, so 10,000 edges cost about a dozen
 * stroke() calls rather than 10,000. A frame is drawn only when something changed (requestDraw
 * coalesces into the next animation frame). Node hit-testing uses a quadtree rebuilt only after
 * positions change; edge hit-testing scans once per click, which is cheap next to a frame.
 *
 * Canvas rasterises in software when there is no GPU, where wide, translucent lines are the cost:
 * measured in headless chromium, 10,000 long edges take ~900 ms in four widths at 75 % alpha and
 * ~30 ms as opaque 1-pixel lines. So past LARGE_EDGES edges are drawn opaque and 1 pixel wide
 * (width by bytes returns when a filter or roll-up brings the count down). And a settled frame is
 * kept in an offscreen copy: while panning or wheel-zooming, a frame is that copy shifted and
 * scaled (a few ms at any size), and the full drawing is redone when the gesture rests. A full
 * frame of 2,000 nodes and 10,000 edges costs ~100–200 ms of software rasterisation, so drawing
 * one per wheel step held zoom at 4–10 fps. Full frames skip what lies outside the view.
 */
import { quadtree, type Quadtree } from 'd3-quadtree';
import { hashUnit } from './layout';
import type { MapScene, ViewEdge, ViewNode } from './model';
import type { Verdict } from './types';

export interface Transform {
  k: number;
  x: number;
  y: number;
}

export const VERDICT_COLOURS: Record<Verdict, string> = { allow: '#52c41a', violate: '#fa8c16', deny: '#f5222d' };
// Distinct hues that stay apart from the verdict colours (green, orange, red) of the edges.
const GROUP_PALETTE = ['#1677ff', '#13c2c2', '#722ed1', '#eb2f96', '#2f54eb', '#08979c', '#9254de', '#c41d7f', '#1d39c4', '#0958d9', '#ad8b00', '#531dab', '#006d75', '#d3adf7', '#85a5ff', '#5cdbd3', '#ff85c0', '#10239e', '#391085', '#614700'];
const EXTERNAL_COLOUR = '#8c8c8c';
const HOST_COLOUR = '#595959';
const PROTECT_RING = '#141414';
const WIDTHS = [1, 2, 3.5, 5];
/** Above this many edges, edges are drawn opaque and 1 pixel wide (see the header). */
export const LARGE_EDGES = 2000;
/** The wheel has rested this long: the zoom gesture is over and a full frame follows. */
export const ZOOM_REST_MS = 150;
/**
 * The cached frame stands in for a zoom only while this close to its scale: further in, it would
 * be visibly blocky; further out, mostly blank. Past it one full frame is drawn and cached anew.
 */
const MAX_CACHE_SCALE = 3;
/** Labels only when they can be read and do not pile up: zoomed in this far, or this few nodes. */
const LABEL_ZOOM = 1.2;
const LABEL_NODES = 60;
/** How far right of its node a label may reach on screen (for leaving out those off screen). */
const MAX_LABEL_PX = 300;

/** The world rectangle on screen. */
interface View {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function inView(v: View, x: number, y: number, pad: number): boolean {
  return x + pad >= v.x0 && x - pad <= v.x1 && y + pad >= v.y0 && y - pad <= v.y1;
}

/** Whether an edge's bounding box meets the view (a cheap test that keeps every visible edge). */
function crossesView(v: View, e: ViewEdge): boolean {
  const { x: ax, y: ay } = e.source;
  const { x: bx, y: by } = e.target;
  return Math.max(ax, bx) >= v.x0 && Math.min(ax, bx) <= v.x1 && Math.max(ay, by) >= v.y0 && Math.min(ay, by) <= v.y1;
}

/** The width bucket of an edge by bytes: <10 KB, <1 MB, <100 MB, more. */
export function widthBucket(bytes: number): number {
  return bytes < 10_000 ? 0 : bytes < 1_000_000 ? 1 : bytes < 100_000_000 ? 2 : 3;
}

export function groupColour(group: string): string {
  if (group === 'external') return EXTERNAL_COLOUR;
  if (group === 'nodes') return HOST_COLOUR;
  // A colour by the name's hash: stable across refreshes and sessions, whatever else is on the map.
  return GROUP_PALETTE[Math.floor(hashUnit(group) * GROUP_PALETTE.length)];
}

export function nodeRadius(n: ViewNode): number {
  return n.kind === 'group' ? 9 + Math.min(16, Math.sqrt(n.members.length) * 2) : 6;
}

export interface Highlight {
  /** The selected or focused node: its neighbourhood is drawn at full strength, the rest dimmed. */
  node: ViewNode | null;
  edge: ViewEdge | null;
}

export class MapRenderer {
  transform: Transform = { k: 1, x: 0, y: 0 };
  highlight: Highlight = { node: null, edge: null };
  /** Frames drawn so far; read by the benchmark through the canvas's data attribute. */
  frames = 0;
  private scene: MapScene = { nodes: [], edges: [], byId: new Map() };
  private tree: Quadtree<ViewNode> | null = null;
  private pending = 0;
  private width = 0;
  private height = 0;
  private dpr = 1;
  /** The transform of the last full frame, whose copy is in `copy`; null when out of date. */
  private cache: Transform | null = null;
  private copy: HTMLCanvasElement | null = null;
  private panning = false;
  /** The wheel-zoom gesture's rest timer; 0 when no zoom is under way. */
  private zoomRest: ReturnType<typeof setTimeout> | 0 = 0;
  /** Whether the layout is still moving nodes (frames then are not worth caching). */
  animating = false;
  /** Called before each frame is drawn (the layout steps here). */
  beforeFrame: (() => void) | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  setScene(scene: MapScene): void {
    this.scene = scene;
    this.cache = null;
    this.positionsChanged();
    this.canvas.dataset.nodes = String(scene.nodes.length);
    this.canvas.dataset.edges = String(scene.edges.length);
  }

  /** Node positions moved: the quadtree is rebuilt on the next hit test. */
  positionsChanged(): void {
    this.tree = null;
    this.cache = null;
  }

  setHighlight(h: Highlight): void {
    this.highlight = h;
    this.cache = null;
    this.requestDraw();
  }

  /** A pan starts: frames until endPan() may be the cached frame shifted. */
  beginPan(): void {
    this.panning = true;
  }

  endPan(): void {
    this.panning = false;
    this.requestDraw();
  }

  resize(width: number, height: number, dpr: number): void {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(width * dpr));
    this.canvas.height = Math.max(1, Math.round(height * dpr));
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.cache = null;
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.pending !== 0) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.beforeFrame?.();
      this.draw();
    });
  }

  dispose(): void {
    if (this.pending !== 0) cancelAnimationFrame(this.pending);
    this.pending = 0;
    if (this.zoomRest !== 0) clearTimeout(this.zoomRest);
    this.zoomRest = 0;
    this.beforeFrame = null;
  }

  /** Scales and centres the transform so every node is in view. */
  fit(padding = 40): void {
    const { nodes } = this.scene;
    if (nodes.length === 0 || this.width === 0) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of nodes) {
      x0 = Math.min(x0, n.x);
      y0 = Math.min(y0, n.y);
      x1 = Math.max(x1, n.x);
      y1 = Math.max(y1, n.y);
    }
    // At most 2x: a few nodes should not fill the screen.
    const k = Math.min(2, Math.max(0.02, Math.min((this.width - 2 * padding) / Math.max(1, x1 - x0), (this.height - 2 * padding) / Math.max(1, y1 - y0))));
    this.transform = { k, x: this.width / 2 - k * (x0 + x1) / 2, y: this.height / 2 - k * (y0 + y1) / 2 };
    // The zoom a fit chose, for tests and the bench to read off the canvas.
    this.canvas.dataset.fitZoom = k.toFixed(3);
    this.requestDraw();
  }

  /** Centres a node at a readable zoom. */
  focus(n: ViewNode): void {
    const k = Math.max(this.transform.k, 1.5);
    this.transform = { k, x: this.width / 2 - k * n.x, y: this.height / 2 - k * n.y };
    this.requestDraw();
  }

  pan(dx: number, dy: number): void {
    this.transform = { ...this.transform, x: this.transform.x + dx, y: this.transform.y + dy };
    this.requestDraw();
  }

  /**
   * Zooms by a factor around a point on screen, as one step of a gesture: frames are the cached
   * frame scaled until no step has come for ZOOM_REST_MS.
   */
  zoom(factor: number, px: number, py: number): void {
    const t = this.transform;
    const k = Math.min(8, Math.max(0.02, t.k * factor));
    const f = k / t.k;
    this.transform = { k, x: px - (px - t.x) * f, y: py - (py - t.y) * f };
    if (this.zoomRest !== 0) clearTimeout(this.zoomRest);
    this.zoomRest = setTimeout(() => {
      this.zoomRest = 0;
      this.requestDraw();
    }, ZOOM_REST_MS);
    this.requestDraw();
  }

  toWorld(px: number, py: number): { x: number; y: number } {
    const t = this.transform;
    return { x: (px - t.x) / t.k, y: (py - t.y) / t.k };
  }

  nodeAt(px: number, py: number): ViewNode | null {
    if (!this.tree) this.tree = quadtree<ViewNode>().x((n) => n.x).y((n) => n.y).addAll(this.scene.nodes);
    const p = this.toWorld(px, py);
    const n = this.tree.find(p.x, p.y, 30 / this.transform.k + 20);
    if (!n) return null;
    const r = nodeRadius(n) + 3 / this.transform.k;
    return (n.x - p.x) ** 2 + (n.y - p.y) ** 2 <= r * r ? n : null;
  }

  edgeAt(px: number, py: number): ViewEdge | null {
    const p = this.toWorld(px, py);
    const tolerance = 5 / this.transform.k;
    let best: ViewEdge | null = null;
    let bestD = tolerance * tolerance;
    for (const e of this.scene.edges) {
      const d = segmentDistance2(p.x, p.y, e.source.x, e.source.y, e.target.x, e.target.y);
      if (d <= bestD) {
        bestD = d;
        best = e;
      }
    }
    return best;
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    this.frames++;
    this.canvas.dataset.frames = String(this.frames);
    const t = this.transform;
    const cache = this.cache;
    const f = cache ? t.k / cache.k : 1;
    const copy = this.copy;
    if ((this.panning || this.zoomRest !== 0) && cache && copy && f <= MAX_CACHE_SCALE && f >= 1 / MAX_CACHE_SCALE) {
      // A world point drawn at pixel p in the copy belongs at f·p + dpr·(x − f·cx) now.
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      const dx = (t.x - f * cache.x) * this.dpr;
      const dy = (t.y - f * cache.y) * this.dpr;
      // Whole pixels when only shifted, so a pan stays sharp.
      if (f === 1) ctx.drawImage(copy, Math.round(dx), Math.round(dy));
      else ctx.drawImage(copy, dx, dy, copy.width * f, copy.height * f);
      return;
    }
    const started = performance.now();
    this.drawScene(ctx, t);
    if (!this.animating) {
      this.keep(t);
      // Copying the frame makes the canvas rasterise it: the time is the whole frame's cost.
      this.canvas.dataset.fullFrameMs = (performance.now() - started).toFixed(1);
    }
  }

  /** Copies the frame just drawn for panning and zooming. */
  private keep(t: Transform): void {
    const copy = (this.copy ??= document.createElement('canvas'));
    // Setting a size reallocates (and clears) the copy: only when the canvas was resized.
    if (copy.width !== this.canvas.width || copy.height !== this.canvas.height) {
      copy.width = this.canvas.width;
      copy.height = this.canvas.height;
    }
    const c = copy.getContext('2d');
    if (!c) return;
    c.clearRect(0, 0, copy.width, copy.height);
    c.drawImage(this.canvas, 0, 0);
    this.cache = t;
  }

  private drawScene(ctx: CanvasRenderingContext2D, t: Transform): void {
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.setTransform(this.dpr * t.k, 0, 0, this.dpr * t.k, this.dpr * t.x, this.dpr * t.y);

    const { node: hn, edge: he } = this.highlight;
    const near = hn ? neighbourhood(this.scene.edges, hn) : null;
    const dim = near !== null || he !== null;
    const view = { x0: -t.x / t.k, y0: -t.y / t.k, x1: (this.width - t.x) / t.k, y1: (this.height - t.y) / t.k };
    // What lies outside the view is not drawn; labels reach to the right of their node.
    const onScreen = this.scene.nodes.filter((n) => inView(view, n.x, n.y, nodeRadius(n) + 3));
    const labelled = (nodes: readonly ViewNode[]) => nodes.filter((n) => inView({ ...view, x0: view.x0 - MAX_LABEL_PX / t.k }, n.x, n.y, nodeRadius(n)));

    const large = this.scene.edges.length > LARGE_EDGES;
    ctx.globalAlpha = dim ? 0.12 : large ? 1 : 0.75;
    this.drawEdges(ctx, this.scene.edges, t.k, large, view);
    ctx.globalAlpha = dim ? 0.25 : 1;
    this.drawNodes(ctx, onScreen, t.k);

    if (dim) {
      const edges = he ? [he] : this.scene.edges.filter((e) => e.source === hn || e.target === hn);
      const nodes = he ? [he.source, he.target] : [...(near as Set<ViewNode>)];
      ctx.globalAlpha = 1;
      this.drawEdges(ctx, edges, t.k, false, view);
      this.drawNodes(ctx, nodes, t.k);
      this.drawLabels(ctx, labelled(nodes), t.k);
    } else if (t.k >= LABEL_ZOOM || this.scene.nodes.length <= LABEL_NODES) {
      this.drawLabels(ctx, labelled(this.scene.nodes), t.k);
    }
    ctx.globalAlpha = 1;
  }

  private drawEdges(ctx: CanvasRenderingContext2D, edges: readonly ViewEdge[], k: number, thin: boolean, view: View): void {
    // Arrowheads show direction (client → server) but cost a segment pair per edge: only when few.
    const arrows = edges.length <= LARGE_EDGES && k > 0.4;
    const shown = edges.filter((e) => crossesView(view, e));
    for (const verdict of ['allow', 'violate', 'deny'] as const) {
      for (let w = 0; w < (thin ? 1 : WIDTHS.length); w++) {
        ctx.beginPath();
        let any = false;
        for (const e of shown) {
          if (e.verdict !== verdict || (!thin && widthBucket(e.bytes) !== w)) continue;
          any = true;
          ctx.moveTo(e.source.x, e.source.y);
          ctx.lineTo(e.target.x, e.target.y);
          if (arrows) arrowHead(ctx, e);
        }
        if (!any) continue;
        ctx.strokeStyle = VERDICT_COLOURS[verdict];
        // Widths in screen pixels, whatever the zoom.
        ctx.lineWidth = WIDTHS[w] / k;
        ctx.stroke();
      }
    }
  }

  private drawNodes(ctx: CanvasRenderingContext2D, nodes: readonly ViewNode[], k: number): void {
    const byColour = new Map<string, ViewNode[]>();
    for (const n of nodes) {
      const c = groupColour(n.group);
      const list = byColour.get(c);
      if (list) list.push(n);
      else byColour.set(c, [n]);
    }
    for (const [colour, list] of byColour) {
      ctx.beginPath();
      for (const n of list) shape(ctx, n, nodeRadius(n));
      ctx.fillStyle = colour;
      ctx.fill();
    }
    // Protect mode: a dark ring; Monitor: a white one; addresses: none.
    for (const mode of ['protect', 'monitor'] as const) {
      ctx.beginPath();
      let any = false;
      for (const n of nodes) {
        if (n.mode !== mode) continue;
        any = true;
        shape(ctx, n, nodeRadius(n) + (mode === 'protect' ? 1.5 : 0));
      }
      if (!any) continue;
      ctx.strokeStyle = mode === 'protect' ? PROTECT_RING : '#ffffff';
      ctx.lineWidth = (mode === 'protect' ? 2.5 : 1) / k;
      ctx.stroke();
    }
  }

  private drawLabels(ctx: CanvasRenderingContext2D, nodes: readonly ViewNode[], k: number): void {
    ctx.fillStyle = '#262626';
    ctx.font = `${12 / k}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    for (const n of nodes) ctx.fillText(n.kind === 'group' ? `${n.label} (${n.members.length})` : n.label, n.x + (nodeRadius(n) + 3), n.y);
  }
}

function shape(ctx: CanvasRenderingContext2D, n: ViewNode, r: number): void {
  if (n.kind === 'external') {
    // Outside addresses: a diamond.
    ctx.moveTo(n.x, n.y - r);
    ctx.lineTo(n.x + r, n.y);
    ctx.lineTo(n.x, n.y + r);
    ctx.lineTo(n.x - r, n.y);
    ctx.closePath();
  } else if (n.kind === 'host') {
    // Hosts: a square.
    ctx.rect(n.x - r, n.y - r, 2 * r, 2 * r);
  } else {
    ctx.moveTo(n.x + r, n.y);
    ctx.arc(n.x, n.y, r, 0, 2 * Math.PI);
  }
}

function arrowHead(ctx: CanvasRenderingContext2D, e: ViewEdge): void {
  const dx = e.target.x - e.source.x;
  const dy = e.target.y - e.source.y;
  const len = Math.hypot(dx, dy);
  if (len < 1) return;
  const ux = dx / len;
  const uy = dy / len;
  const r = nodeRadius(e.target) + 2;
  const tipX = e.target.x - ux * r;
  const tipY = e.target.y - uy * r;
  ctx.moveTo(tipX - ux * 6 - uy * 3, tipY - uy * 6 + ux * 3);
  ctx.lineTo(tipX, tipY);
  ctx.lineTo(tipX - ux * 6 + uy * 3, tipY - uy * 6 - ux * 3);
  ctx.moveTo(e.target.x, e.target.y);
}

function neighbourhood(edges: readonly ViewEdge[], n: ViewNode): Set<ViewNode> {
  const out = new Set<ViewNode>([n]);
  for (const e of edges) {
    if (e.source === n) out.add(e.target);
    else if (e.target === n) out.add(e.source);
  }
  return out;
}

/** Squared distance from a point to a segment. */
export function segmentDistance2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  const x = ax + t * dx - px;
  const y = ay + t * dy - py;
  return x * x + y * y;
}
