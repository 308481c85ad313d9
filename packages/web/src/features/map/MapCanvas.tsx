/**
 * The map's canvas: owns the renderer and the layout, turns pointer input into pan, zoom, drag
 * and selection. React renders this element once per scene; frames are drawn by the renderer
 * outside React, so panning 10,000 edges never re-renders a component.
 */
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import { MapLayout, PositionStore } from './layout';
import type { MapScene, ViewEdge, ViewNode } from './model';
import { MapRenderer } from './renderer';

export interface MapCanvasHandle {
  focus(node: ViewNode): void;
  fit(): void;
}

interface Props {
  scene: MapScene;
  selectedNode: ViewNode | null;
  selectedEdge: ViewEdge | null;
  onSelectNode(node: ViewNode | null): void;
  onSelectEdge(edge: ViewEdge | null): void;
  /** Accessible summary, e.g. "Network map: 12 nodes, 20 connections". */
  label: string;
  /** A new value fits the view to the next scene once its layout settles (after a roll-up or expand of all groups). */
  fitKey?: number;
  ref?: Ref<MapCanvasHandle>;
}

/** Positions outlive the component (and, through sessionStorage, a reload). */
let sharedStore: PositionStore | null = null;
function positionStore(): PositionStore {
  sharedStore ??= new PositionStore(typeof sessionStorage === 'undefined' ? null : sessionStorage);
  return sharedStore;
}

/** Per-frame budget for layout ticks: leaves room for drawing within a 60 Hz frame. */
const LAYOUT_BUDGET_MS = 8;
/**
 * For large maps a frame costs tens of ms to draw anyway; more ticks per frame make the layout
 * settle several times sooner, at a lower frame rate only while it moves.
 */
const LARGE_LAYOUT_BUDGET_MS = 50;
const LARGE_NODES = 500;
/** A pointer that moves less than this between down and up is a click, not a pan. */
const CLICK_SLOP = 4;

export function MapCanvas({ scene, selectedNode, selectedEdge, onSelectNode, onSelectEdge, label, fitKey = 0, ref }: Props) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<MapRenderer | null>(null);
  const layoutRef = useRef<MapLayout | null>(null);
  const fittedRef = useRef(false);
  const fitKeyRef = useRef(fitKey);
  const handlers = useRef({ onSelectNode, onSelectEdge });
  handlers.current = { onSelectNode, onSelectEdge };

  useImperativeHandle(ref, () => ({
    focus: (n) => rendererRef.current?.focus(n),
    fit: () => rendererRef.current?.fit(),
  }));

  // One renderer per canvas, sized to its box.
  useEffect(() => {
    const canvas = canvasRef.current as HTMLCanvasElement;
    const wrap = wrapRef.current as HTMLDivElement;
    const renderer = new MapRenderer(canvas);
    const layout = new MapLayout(positionStore());
    rendererRef.current = renderer;
    layoutRef.current = layout;
    const size = () => renderer.resize(wrap.clientWidth, wrap.clientHeight, window.devicePixelRatio || 1);
    size();
    const observer = new ResizeObserver(size);
    observer.observe(wrap);

    let drag: { x: number; y: number; moved: boolean; node: ViewNode | null } | null = null;
    const at = (e: PointerEvent | WheelEvent) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const down = (e: PointerEvent) => {
      const p = at(e);
      canvas.setPointerCapture(e.pointerId);
      drag = { ...p, moved: false, node: renderer.nodeAt(p.x, p.y) };
    };
    const move = (e: PointerEvent) => {
      const p = at(e);
      if (!drag) {
        canvas.style.cursor = renderer.nodeAt(p.x, p.y) || renderer.edgeAt(p.x, p.y) ? 'pointer' : 'grab';
        return;
      }
      if (!drag.moved && Math.hypot(p.x - drag.x, p.y - drag.y) < CLICK_SLOP) return;
      if (drag.node) {
        layout.place(drag.node, renderer.toWorld(p.x, p.y));
        renderer.positionsChanged();
        renderer.requestDraw();
      } else {
        if (!drag.moved) renderer.beginPan();
        renderer.pan(p.x - drag.x, p.y - drag.y);
      }
      drag.moved = true;
      drag.x = p.x;
      drag.y = p.y;
    };
    const up = (e: PointerEvent) => {
      const d = drag;
      drag = null;
      if (d?.moved && !d.node) renderer.endPan();
      if (!d || d.moved) return;
      const p = at(e);
      const node = renderer.nodeAt(p.x, p.y);
      if (node) {
        handlers.current.onSelectNode(node);
        return;
      }
      const edge = renderer.edgeAt(p.x, p.y);
      if (edge) handlers.current.onSelectEdge(edge);
      else handlers.current.onSelectNode(null);
    };
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = at(e);
      renderer.zoom(Math.exp(-e.deltaY * 0.0015), p.x, p.y);
    };
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('wheel', wheel, { passive: false });
    return () => {
      observer.disconnect();
      canvas.removeEventListener('pointerdown', down);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerup', up);
      canvas.removeEventListener('wheel', wheel);
      layout.finish();
      renderer.dispose();
      rendererRef.current = null;
      layoutRef.current = null;
    };
  }, []);

  // A new scene: seed positions, then step the layout from animation frames until it settles.
  useEffect(() => {
    const renderer = rendererRef.current;
    const layout = layoutRef.current;
    if (!renderer || !layout) return;
    if (fitKeyRef.current !== fitKey) {
      fitKeyRef.current = fitKey;
      fittedRef.current = false;
    }
    layout.start(scene.nodes, scene.edges);
    renderer.setScene(scene);
    renderer.beforeFrame = () => {
      renderer.animating = layout.running;
      if (!layout.running) return;
      const more = layout.step(scene.nodes.length > LARGE_NODES ? LARGE_LAYOUT_BUDGET_MS : LAYOUT_BUDGET_MS);
      renderer.animating = more;
      renderer.positionsChanged();
      if (!fittedRef.current) renderer.fit();
      if (more) renderer.requestDraw();
      else fittedRef.current = true;
    };
    if (!fittedRef.current && !layout.running) {
      renderer.fit();
      fittedRef.current = scene.nodes.length > 0;
    }
    renderer.requestDraw();
  }, [scene, fitKey]);

  useEffect(() => {
    const renderer = rendererRef.current;
    if (!renderer) return;
    renderer.setHighlight({ node: selectedNode, edge: selectedEdge });
  }, [selectedNode, selectedEdge]);

  return (
    <div ref={wrapRef} style={{ position: 'absolute', inset: 0, overflow: 'hidden' }}>
      <canvas ref={canvasRef} role="img" aria-label={label} data-testid="network-map" style={{ display: 'block', touchAction: 'none', cursor: 'grab' }} />
    </div>
  );
}
