/**
 * The WatchPolicy stream of one agent: the rule sets of its running workloads, versioned by the
 * policy revision.
 *
 * First message: when the agent's revision is known, only the workloads changed since it (the
 * agent resumes after a reconnect); when it is 0, unknown or too old, a full snapshot. Then, on
 * every `policy` or `workloads` event, the agent's rule sets are compiled again and only those
 * that differ from what this stream last sent are pushed. A peer's workload on another host can
 * change this agent's rule sets (group members), so every workloads event counts, not only this
 * agent's. Events arriving while a compile runs are coalesced into one more compile.
 *
 * Each message is labelled with the revision read *before* compiling: the compile saw at least
 * that state, so an agent resuming from the label gets a superset of what it missed, never less.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { WatchPolicyResponseSchema } from '@mseg/proto';
import { MsegError } from '../errors.js';
import { recordPolicyRevision } from '../ingest/agents.js';
import { changedWorkloadsSince, compileForWorkloads } from '../policy/compile.js';
import { currentRevision } from '../policy/revision.js';
import type { Context } from '../server/context.js';
import { policyToProto } from './convert.js';

type Response = MessageInitShape<typeof WatchPolicyResponseSchema>;

/** Wakes a waiting loop; wakes that arrive while nobody waits are remembered as one. */
class Signal {
  private pending = false;
  private resolve: (() => void) | null = null;

  fire(): void {
    this.pending = true;
    this.resolve?.();
    this.resolve = null;
  }

  wait(abort: AbortSignal): Promise<void> {
    if (this.pending || abort.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        abort.removeEventListener('abort', done);
        this.pending = false;
        resolve();
      };
      this.resolve = done;
      abort.addEventListener('abort', done, { once: true });
    });
  }
}

async function agentWorkloads(ctx: Context, agentId: string): Promise<string[]> {
  const rows = await ctx.store.db.selectFrom('workloads').select('id').where('agent_id', '=', agentId).where('state', '=', 'running').execute();
  return rows.map((r) => r.id);
}

/** Compiles the agent's rule sets, keyed by workload id, each with its canonical JSON for diffing. */
async function compileAgent(ctx: Context, agentId: string): Promise<Map<string, { set: Parameters<typeof policyToProto>[1]; key: string }>> {
  const compiled = await compileForWorkloads(ctx, await agentWorkloads(ctx, agentId));
  const out = new Map<string, { set: Parameters<typeof policyToProto>[1]; key: string }>();
  for (const [id, set] of compiled) out.set(id, { set, key: JSON.stringify(set) });
  return out;
}

export async function* watchPolicy(ctx: Context, agentId: string, fromRevision: number, abort: AbortSignal): AsyncGenerator<Response> {
  const wake = new Signal();
  let revoked = false;
  // Subscribe before the first compile so no change between it and the loop is missed.
  const unsubscribe = [
    ctx.events.on('policy', () => wake.fire()),
    ctx.events.on('workloads', () => wake.fire()),
    ctx.events.on('agents', (e) => {
      if (e.agentId === agentId && e.state === 'revoked') {
        revoked = true;
        wake.fire();
      }
    }),
  ];
  try {
    if (fromRevision > 0) await recordPolicyRevision(ctx, agentId, fromRevision);
    let revision = await currentRevision(ctx);
    let sent = await compileAgent(ctx, agentId);
    // A revision ahead of ours (a store restored from backup) is as unknown as one too old.
    const changed = fromRevision > 0 && fromRevision <= revision ? await changedWorkloadsSince(ctx, fromRevision) : null;
    if (changed === null) {
      yield { revision: BigInt(revision), full: true, policies: [...sent].map(([id, p]) => policyToProto(id, p.set)) };
    } else {
      const wanted = new Set(changed);
      const policies = [...sent].filter(([id]) => wanted.has(id)).map(([id, p]) => policyToProto(id, p.set));
      // This agent's workloads that stopped while it was away: their rule sets are to be dropped.
      const mine = await ctx.store.db.selectFrom('workloads').select('id').where('agent_id', '=', agentId).execute();
      const removedWorkloadIds = mine.map((r) => r.id).filter((id) => wanted.has(id) && !sent.has(id));
      yield { revision: BigInt(revision), full: false, policies, removedWorkloadIds };
    }

    for (;;) {
      await wake.wait(abort);
      // Client gone, or the server shutting down (its reason, UNAVAILABLE, reaches the agent).
      if (abort.aborted) throw abort.reason;
      if (revoked) throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED', `agent ${agentId} was revoked`);
      revision = await currentRevision(ctx);
      const next = await compileAgent(ctx, agentId);
      const policies = [...next].filter(([id, p]) => sent.get(id)?.key !== p.key).map(([id, p]) => policyToProto(id, p.set));
      const removedWorkloadIds = [...sent.keys()].filter((id) => !next.has(id));
      sent = next;
      if (policies.length > 0 || removedWorkloadIds.length > 0) {
        yield { revision: BigInt(revision), full: false, policies, removedWorkloadIds };
      }
    }
  } finally {
    for (const off of unsubscribe) off();
  }
}
