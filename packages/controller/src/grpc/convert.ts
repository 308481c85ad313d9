/**
 * Between the wire messages (@mseg/proto) and the controller's own shapes, which for reports are
 * the data plane's records (@mseg/dp) so the ingest code is the same whatever carried them.
 * Enum values an agent left unspecified are refused with the field named.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { DirectionName, RuleSpec, SeverityName, ThreatRecord } from '@mseg/dp';
import { Severity } from '@mseg/dp';
import {
  Direction,
  PolicyMode,
  RuleAction,
  Verdict,
  WorkloadState,
  type Threat,
  type Violation,
  type Workload,
  type WorkloadPolicySchema,
} from '@mseg/proto';
import { MsegError } from '../errors.js';
import type { ReportedWorkload } from '../ingest/workloads.js';

const STATES: Record<number, ReportedWorkload['state']> = {
  [WorkloadState.RUNNING]: 'running',
  [WorkloadState.STOPPED]: 'stopped',
  [WorkloadState.UNMONITORED]: 'unmonitored',
};

const DIRECTIONS: Record<number, DirectionName> = {
  [Direction.UNSPECIFIED]: 'none',
  [Direction.INGRESS]: 'ingress',
  [Direction.EGRESS]: 'egress',
};

function bad(field: string, message: string): MsegError {
  return new MsegError('MSEG_ERR_VALIDATION', `${field}: ${message}`, field);
}

export function workloadFromProto(w: Workload, i: number): ReportedWorkload {
  const state = STATES[w.state];
  if (!state) throw bad(`workloads[${i}].state`, 'must be running, stopped or unmonitored');
  return {
    id: w.id,
    name: w.name,
    image: w.image,
    labels: { ...w.labels },
    service: w.service,
    interfaces: w.interfaces.map((f) => ({ name: f.name, mac: f.mac, ips: [...f.ips] })),
    state,
    reason: w.reason,
  };
}

export function threatFromProto(t: Threat, i: number): ThreatRecord {
  if (!(t.severity in Severity)) throw bad(`threats[${i}].severity`, `must be one of ${Object.keys(Severity).join(', ')}`);
  return {
    id: t.id,
    name: t.name,
    severity: t.severity as SeverityName,
    ts: t.ts,
    workloadId: t.workloadId,
    client: t.client,
    server: t.server,
    proto: t.proto,
    app: t.app,
    detail: t.detail,
    count: Math.max(1, t.count),
  };
}

/** A Protect-mode drop read from NFLOG, as ingest takes it. */
export interface ViolationRecord {
  workloadId: string;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  proto: number;
  ruleId: number;
  action: 'deny';
  direction: DirectionName;
  ts: number;
  count: number;
}

export function violationFromProto(v: Violation, i: number): ViolationRecord {
  // NFLOG only logs what the kernel dropped: Protect mode, so the verdict is always deny.
  if (v.action !== Verdict.DENY) throw bad(`violations[${i}].action`, 'must be deny (NFLOG drops)');
  return {
    workloadId: v.workloadId,
    client: v.client,
    server: v.server,
    clientPort: v.clientPort,
    serverPort: v.serverPort,
    proto: v.proto,
    ruleId: v.ruleId,
    action: 'deny',
    direction: DIRECTIONS[v.direction] ?? 'none',
    ts: v.ts,
    count: Math.max(1, v.count),
  };
}

export function policyToProto(
  workloadId: string,
  set: { mode: 'monitor' | 'protect'; rules: RuleSpec[] },
): MessageInitShape<typeof WorkloadPolicySchema> {
  return {
    workloadId,
    mode: set.mode === 'protect' ? PolicyMode.PROTECT : PolicyMode.MONITOR,
    rules: set.rules.map((r) => ({
      id: r.id,
      from: r.from,
      to: r.to,
      ports: r.ports,
      apps: r.apps,
      action: r.action === 'allow' ? RuleAction.ALLOW : RuleAction.DENY,
    })),
  };
}
