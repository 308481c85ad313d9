/**
 * The agent's workloads, keyed by container id, with change notifications. The runtime writes
 * it; the plumbing and enforcement reconcilers and the controller link read and subscribe.
 *
 * `synced()` resolves once the runtime has loaded every container that existed at start: a
 * reconciler must not prune before that, or it would remove the plumbing of containers the table
 * simply has not loaded yet.
 */
import type { Workload } from './types.js';

export type WorkloadChange =
  | { kind: 'added'; workload: Workload }
  | { kind: 'changed'; workload: Workload; previous: Workload }
  | { kind: 'removed'; workload: Workload };

export type WorkloadListener = (change: WorkloadChange) => void;

/** JSON with object keys sorted, so two equal workloads compare equal whatever Docker's order. */
function canonical(w: Workload): string {
  return JSON.stringify(w, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export class WorkloadTable {
  private readonly rows = new Map<string, { workload: Workload; key: string }>();
  private readonly listeners = new Set<WorkloadListener>();
  private markSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.markSynced = resolve));
  private isSynced = false;

  get(id: string): Workload | undefined {
    return this.rows.get(id)?.workload;
  }

  list(): Workload[] {
    return [...this.rows.values()].map((r) => r.workload);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Stores the workload; notifies and returns the change, or null when nothing differs. */
  upsert(workload: Workload): WorkloadChange | null {
    const key = canonical(workload);
    const before = this.rows.get(workload.id);
    if (before?.key === key) return null;
    this.rows.set(workload.id, { workload, key });
    const change: WorkloadChange = before ? { kind: 'changed', workload, previous: before.workload } : { kind: 'added', workload };
    this.emit(change);
    return change;
  }

  /** Removing an unknown id is not an error (level-triggered callers remove what may be gone). */
  remove(id: string): WorkloadChange | null {
    const before = this.rows.get(id);
    if (!before) return null;
    this.rows.delete(id);
    const change: WorkloadChange = { kind: 'removed', workload: before.workload };
    this.emit(change);
    return change;
  }

  /** Returns the unsubscribe function. Listeners run synchronously and must not throw. */
  subscribe(listener: WorkloadListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  synced(): Promise<void> {
    return this.syncedPromise;
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Called by the runtime once the containers present at start are all loaded. */
  setSynced(): void {
    this.isSynced = true;
    this.markSynced();
  }

  private emit(change: WorkloadChange): void {
    for (const l of this.listeners) l(change);
  }
}
