/**
 * In-process publish/subscribe of state changes: the REST live stream, the agents' policy watch
 * streams and caches listen here. With PostgreSQL several controller replicas share one store;
 * a bridge (events/pg-bridge.ts) relays these events between them through LISTEN/NOTIFY.
 */
import { EventEmitter } from 'node:events';

export interface EventMap {
  /** Groups, rules or modes changed: policy revision `revision` must be compiled and pushed. */
  policy: { revision: number };
  /** Workloads of an agent were reported (added, changed or removed). */
  workloads: { agentId: string; ids: string[] };
  agents: { agentId: string; state: string };
  /** New connection data was stored (for the live map). */
  connections: { count: number };
  violations: { count: number };
  threats: { count: number };
  config: { keys: string[] };
}

export type EventName = keyof EventMap;

export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Set by the PostgreSQL bridge so local events also reach other replicas. */
  relay: (<K extends EventName>(name: K, data: EventMap[K]) => void) | null = null;

  constructor() {
    // Every watch stream and live UI client subscribes; the default cap of 10 would warn.
    this.emitter.setMaxListeners(0);
  }

  /** Publishes locally and, when bridged, to the other replicas. */
  emit<K extends EventName>(name: K, data: EventMap[K]): void {
    this.emitter.emit(name, data);
    this.relay?.(name, data);
  }

  /** Delivers an event that came from another replica (not relayed again). */
  deliver<K extends EventName>(name: K, data: EventMap[K]): void {
    this.emitter.emit(name, data);
  }

  on<K extends EventName>(name: K, fn: (data: EventMap[K]) => void): () => void {
    this.emitter.on(name, fn);
    return () => this.emitter.off(name, fn);
  }
}
