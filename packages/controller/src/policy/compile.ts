/**
 * Groups × rules → one DP policy per workload ({mode, rules: RuleSpec[]}, @mseg/dp's shape).
 *
 * For a workload W and an enabled rule R (in rule order):
 * - egress, when W is in R's from-group: from = W's own IPs, to = the to-group's peers;
 * - ingress, when W is in R's to-group: from = the from-group's peers, to = W's own IPs;
 * both when W is in both groups. A group's peers are its members' IPs, or for an address group
 * its CIDRs and domain patterns (the DP resolves domains through the DNS answers it sees).
 *
 * `external` ("any address that is not a known workload or host") has no finite peer list, so it
 * is handed to the DP as `any`, and every rule whose peer side is `external` is placed after all
 * rules with a specific peer, keeping rule order within each part. A specific rule therefore
 * always decides before an external one could claim a known peer. What remains: a flow to or from
 * a known workload that no specific rule matches meets the external rules as `any`; explain.ts
 * evaluates with the same order and the same `any`, so it tells what the DP will do.
 *
 * Rules whose peer group is empty are left out (they can match nothing), as are disabled rules and
 * all rules of a workload without addresses (the DP cannot attribute its traffic).
 */
import { createHash } from 'node:crypto';
import type { RuleSpec } from '@mseg/dp';
import type { Context } from '../server/context.js';
import { type PolicySnapshot, modeOfWorkload, policySnapshot } from './membership.js';
import { EXTERNAL, type Mode, type Rule } from './model.js';
import { currentRevision } from './revision.js';

export { currentRevision } from './revision.js';

export interface CompiledWorkload {
  mode: Mode;
  rules: RuleSpec[];
}

/** Compiles the given workloads of a snapshot; ids that are not (running) workloads are skipped. */
export function compileSnapshot(snap: PolicySnapshot, ids: Iterable<string>): Map<string, CompiledWorkload> {
  const rules: Rule[] = snap.rules.filter((r) => r.enabled);
  const byFrom = new Map<string, number[]>();
  const byTo = new Map<string, number[]>();
  rules.forEach((r, i) => {
    const f = byFrom.get(r.from);
    if (f) f.push(i);
    else byFrom.set(r.from, [i]);
    const t = byTo.get(r.to);
    if (t) t.push(i);
    else byTo.set(r.to, [i]);
  });
  // Per-rule constants shared by every workload's spec.
  const apps = rules.map((r) => r.apps);

  // Bit 1 = egress (W in from), bit 2 = ingress (W in to); reset after each workload.
  const flags = new Uint8Array(rules.length);
  const out = new Map<string, CompiledWorkload>();
  for (const id of ids) {
    const w = snap.workloads.get(id);
    if (!w) continue;
    const mode = modeOfWorkload(snap, w);
    if (w.ips.length === 0) {
      out.set(id, { mode, rules: [] });
      continue;
    }
    const touched: number[] = [];
    for (const g of snap.groupsOf.get(id) ?? []) {
      for (const i of byFrom.get(g) ?? []) {
        if (flags[i] === 0) touched.push(i);
        flags[i] |= 1;
      }
      for (const i of byTo.get(g) ?? []) {
        if (flags[i] === 0) touched.push(i);
        flags[i] |= 2;
      }
    }
    touched.sort((a, b) => a - b);
    const specific: RuleSpec[] = [];
    const external: RuleSpec[] = [];
    for (const i of touched) {
      const r = rules[i];
      if (flags[i] & 1) {
        const to = snap.peers.get(r.to);
        if (to && to.length > 0) {
          (r.to === EXTERNAL ? external : specific).push({ id: r.id, from: w.ips, to, ports: r.ports, apps: apps[i], action: r.action });
        }
      }
      if (flags[i] & 2) {
        const from = snap.peers.get(r.from);
        if (from && from.length > 0) {
          (r.from === EXTERNAL ? external : specific).push({ id: r.id, from, to: w.ips, ports: r.ports, apps: apps[i], action: r.action });
        }
      }
      flags[i] = 0;
    }
    out.set(id, { mode, rules: external.length === 0 ? specific : specific.concat(external) });
  }
  return out;
}

/**
 * A text that differs when a compiled policy differs, without serialising shared peer lists once
 * per workload: each distinct peer array (shared by every workload of one snapshot) is reduced to a
 * content hash once, through `tokens`.
 */
export function fingerprint(policy: CompiledWorkload, tokens: WeakMap<readonly string[], string>): string {
  const tok = (a: readonly string[]): string => {
    if (a.length <= 4) return a.join(',');
    let t = tokens.get(a);
    if (t === undefined) {
      t = createHash('sha1').update(a.join(',')).digest('base64');
      tokens.set(a, t);
    }
    return t;
  };
  let out = policy.mode;
  for (const r of policy.rules) out += `|${r.id};${tok(r.from)};${tok(r.to)};${r.ports};${r.apps.join(',')};${r.action}`;
  return out;
}

interface CacheEntry {
  /** Serialised policy, to tell whether a recompile changed it. '' for a removed workload. */
  fingerprint: string;
  /** Revision at which this workload's policy last changed (or it went away). */
  changedAt: number;
  policy: CompiledWorkload | null;
}

interface CompileCache {
  revision: number;
  /** Revision of the first compile of this process: what changed before it is not known. */
  floor: number;
  entries: Map<string, CacheEntry>;
}

const caches = new WeakMap<Context, { current: CompileCache | null; pending: Promise<CompileCache> | null; pendingRevision: number }>();

async function refresh(ctx: Context): Promise<CompileCache> {
  let state = caches.get(ctx);
  if (!state) {
    state = { current: null, pending: null, pendingRevision: -1 };
    caches.set(ctx, state);
  }
  const revision = await currentRevision(ctx);
  if (state.current && state.current.revision === revision) return state.current;
  if (state.pending && state.pendingRevision === revision) return state.pending;
  const s = state;
  const job = (async () => {
    const snap = await policySnapshot(ctx);
    const compiled = compileSnapshot(snap, snap.workloads.keys());
    const prev = s.current;
    const entries = new Map<string, CacheEntry>();
    const tokens = new WeakMap<readonly string[], string>();
    for (const [id, policy] of compiled) {
      const fp = fingerprint(policy, tokens);
      const old = prev?.entries.get(id);
      entries.set(id, { fingerprint: fp, policy, changedAt: old && old.fingerprint === fp ? old.changedAt : snap.revision });
    }
    if (prev) {
      for (const [id, old] of prev.entries) {
        if (entries.has(id)) continue;
        // Kept as a tombstone so a watcher learns the workload's policy is gone.
        entries.set(id, old.policy === null ? old : { fingerprint: '', policy: null, changedAt: snap.revision });
      }
    }
    const next: CompileCache = { revision: snap.revision, floor: prev?.floor ?? snap.revision, entries };
    // A slower older job must not replace a newer result.
    if (!s.current || s.current.revision <= next.revision) s.current = next;
    return next;
  })();
  state.pending = job;
  state.pendingRevision = revision;
  try {
    return await job;
  } finally {
    if (state.pending === job) state.pending = null;
  }
}

/**
 * The compiled policies of the given workloads at the current revision, from the per-workload
 * cache (recompiled only when the revision moved). Ids that are not running workloads are absent.
 */
export async function compileForWorkloads(ctx: Context, workloadIds: Iterable<string>): Promise<Map<string, CompiledWorkload>> {
  const cache = await refresh(ctx);
  const out = new Map<string, CompiledWorkload>();
  for (const id of workloadIds) {
    const p = cache.entries.get(id)?.policy;
    if (p) out.set(id, p);
  }
  return out;
}

/**
 * Workloads whose compiled policy changed after `revision` (including ones that went away: they
 * are absent from compileForWorkloads, so their policy should be removed). Null when `revision`
 * predates what this process has seen: the caller must then resend everything.
 */
export async function changedWorkloadsSince(ctx: Context, revision: number): Promise<string[] | null> {
  const cache = await refresh(ctx);
  if (revision < cache.floor) return null;
  const out: string[] = [];
  for (const [id, e] of cache.entries) if (e.changedAt > revision) out.push(id);
  return out;
}
