/**
 * The controller's live event stream (SSE at /api/v1/events). One EventSource per signed-in
 * session is shared by every subscriber. The browser retries a dropped stream by itself, but gives
 * up for good when an attempt is refused (e.g. the controller was down and a proxy answered 502):
 * then a new EventSource is made after a doubling delay capped at 30 s.
 */
import { createContext, createElement, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { API_BASE } from './api';

/** Mirrors the controller's EventMap (packages/controller/src/events/bus.ts). */
export interface LiveEventMap {
  policy: { revision: number };
  workloads: { agentId: string; ids: string[] };
  agents: { agentId: string; state: string };
  connections: { count: number };
  violations: { count: number };
  threats: { count: number };
  config: { keys: string[] };
}
export type LiveEventName = keyof LiveEventMap;
export const LIVE_EVENT_NAMES: LiveEventName[] = ['policy', 'workloads', 'agents', 'connections', 'violations', 'threats', 'config'];

type Listener = (data: unknown, name: LiveEventName) => void;
export type EventSourceFactory = (url: string) => EventSource;

// EventSource.CLOSED, spelled out: jsdom and other non-browser hosts have no EventSource global.
const CLOSED = 2;

export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;

export class LiveEvents {
  private source: EventSource | null = null;
  private readonly listeners = new Map<LiveEventName, Set<Listener>>();
  private readonly statusListeners = new Set<(connected: boolean) => void>();
  private delay = RECONNECT_MIN_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  connected = false;

  constructor(
    private readonly token: string,
    private readonly factory: EventSourceFactory = (url) => new EventSource(url),
  ) {}

  start(): void {
    this.closed = false;
    this.open();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.setConnected(false);
  }

  on<K extends LiveEventName>(name: K, fn: (data: LiveEventMap[K], name: K) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    const listener = fn as Listener;
    set.add(listener);
    return () => set.delete(listener);
  }

  onStatus(fn: (connected: boolean) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  private open(): void {
    const source = this.factory(`${API_BASE}/events?token=${encodeURIComponent(this.token)}`);
    this.source = source;
    source.onopen = () => {
      this.delay = RECONNECT_MIN_MS;
      this.setConnected(true);
    };
    source.onerror = () => {
      this.setConnected(false);
      if (source.readyState !== CLOSED || this.closed) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.closed) this.open();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    };
    for (const name of LIVE_EVENT_NAMES) {
      source.addEventListener(name, (ev) => {
        let data: unknown;
        try {
          data = JSON.parse((ev as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const fn of this.listeners.get(name) ?? []) fn(data, name);
      });
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const fn of this.statusListeners) fn(connected);
  }
}

const LiveEventsContext = createContext<LiveEvents | null>(null);

/** One stream for the session `token`; closed when the session ends. */
export function LiveEventsProvider({ token, factory, children }: { token: string; factory?: EventSourceFactory; children: ReactNode }) {
  const [events, setEvents] = useState<LiveEvents | null>(null);
  useEffect(() => {
    const live = new LiveEvents(token, factory);
    live.start();
    setEvents(live);
    return () => live.close();
  }, [token, factory]);
  return createElement(LiveEventsContext.Provider, { value: events }, children);
}

/**
 * Calls `handler` for each event named in `names`. The handler may change every render; the
 * subscription follows the latest one without resubscribing.
 */
export function useLiveEvents<K extends LiveEventName>(names: readonly K[], handler: (data: LiveEventMap[K], name: K) => void): void {
  const events = useContext(LiveEventsContext);
  const latest = useRef(handler);
  latest.current = handler;
  const key = names.join(',');
  useEffect(() => {
    if (!events || key === '') return;
    const offs = (key.split(',') as K[]).map((name) => events.on(name, (data, n) => latest.current(data, n)));
    return () => offs.forEach((off) => off());
  }, [events, key]);
}

/** Whether the live stream is currently open (shown in the header). */
export function useLiveConnected(): boolean {
  const events = useContext(LiveEventsContext);
  const [connected, setConnected] = useState(events?.connected ?? false);
  useEffect(() => {
    if (!events) return;
    setConnected(events.connected);
    return events.onStatus(setConnected);
  }, [events]);
  return connected;
}
