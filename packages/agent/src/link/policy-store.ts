/**
 * The rule sets of this agent's workloads as the WatchPolicy stream delivers them, and the last
 * revision applied (the stream resumes from it after a reconnect, so only changes are re-sent).
 */
import type { WatchPolicyResponse } from '@mseg/proto';
import { policyFromProto, type WorkloadPolicySpec } from './convert.js';

export interface PolicyUpdate {
  revision: bigint;
  /** Rule sets added or changed by this message (every one when it was a full snapshot). */
  changed: WorkloadPolicySpec[];
  /** Workloads whose rule sets are gone (for a snapshot: every one it did not include). */
  removed: string[];
  /** Every rule set after this message. */
  all: ReadonlyMap<string, WorkloadPolicySpec>;
}

export class PolicyStore {
  private readonly sets = new Map<string, WorkloadPolicySpec>();
  private applied = 0n;

  get revision(): bigint {
    return this.applied;
  }

  get(workloadId: string): WorkloadPolicySpec | undefined {
    return this.sets.get(workloadId);
  }

  /** Computes the update a message makes, without applying it (see commit). */
  prepare(msg: WatchPolicyResponse): PolicyUpdate {
    const changed = msg.policies.map(policyFromProto);
    const next = new Map(msg.full ? [] : this.sets);
    for (const id of msg.removedWorkloadIds) next.delete(id);
    for (const p of changed) next.set(p.workloadId, p);
    const removed = [...this.sets.keys()].filter((id) => !next.has(id));
    return { revision: msg.revision, changed, removed, all: next };
  }

  /** Records an update as applied: the revision only moves once the callback took it. */
  commit(update: PolicyUpdate): void {
    this.sets.clear();
    for (const [id, p] of update.all) this.sets.set(id, p);
    this.applied = update.revision;
  }
}
