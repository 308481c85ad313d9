/**
 * Between the agent's own records and the controller's protobuf messages (@mseg/proto).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ConnectionRecord, DnsAnswerRecord, Mode, RuleSpec, ThreatRecord } from '@mseg/dp';
import {
  Direction,
  PolicyMode,
  RuleAction,
  Verdict,
  WorkloadState,
  type ConnectionSchema,
  type DnsAnswerSchema,
  type ThreatSchema,
  type ViolationSchema,
  type WorkloadPolicy,
  type WorkloadSchema,
} from '@mseg/proto';
import type { Workload } from '../runtime/types.js';
import type { ViolationRecord } from './report-queue.js';

const STATES = { running: WorkloadState.RUNNING, stopped: WorkloadState.STOPPED, unmonitored: WorkloadState.UNMONITORED } as const;
const DIRECTIONS = { none: Direction.UNSPECIFIED, ingress: Direction.INGRESS, egress: Direction.EGRESS } as const;
const VERDICTS = { none: Verdict.UNSPECIFIED, allow: Verdict.ALLOW, deny: Verdict.DENY, violate: Verdict.VIOLATE } as const;

export function workloadToProto(w: Workload): MessageInitShape<typeof WorkloadSchema> {
  return {
    id: w.id,
    name: w.name,
    image: w.image,
    labels: w.labels,
    service: w.service,
    host: w.host,
    pid: w.pid,
    netns: w.netns,
    interfaces: w.interfaces.map((i) => ({ name: i.name, mac: i.mac, ips: i.ips })),
    state: STATES[w.state],
    reason: w.reason,
  };
}

export function connectionToProto(c: ConnectionRecord): MessageInitShape<typeof ConnectionSchema> {
  return {
    workloadId: c.workloadId,
    client: c.client,
    server: c.server,
    serverPort: c.serverPort,
    proto: c.proto,
    app: c.app,
    direction: DIRECTIONS[c.direction],
    ruleId: c.ruleId,
    action: VERDICTS[c.action],
    bytesToServer: BigInt(c.bytesToServer),
    bytesToClient: BigInt(c.bytesToClient),
    packetsToServer: BigInt(c.packetsToServer),
    packetsToClient: BigInt(c.packetsToClient),
    sessions: c.sessions,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
    violations: c.violations,
    threatSeverity: c.threatSeverity,
  };
}

export function dnsAnswerToProto(a: DnsAnswerRecord): MessageInitShape<typeof DnsAnswerSchema> {
  return { name: a.name, ip: a.addr };
}

export function threatToProto(t: ThreatRecord): MessageInitShape<typeof ThreatSchema> {
  return { ...t };
}

export function violationToProto(v: ViolationRecord): MessageInitShape<typeof ViolationSchema> {
  return { ...v, action: Verdict.DENY, direction: DIRECTIONS[v.direction] };
}

/** One workload's compiled rule set in the data plane's grammar (what the reconcilers and the DP take). */
export interface WorkloadPolicySpec {
  workloadId: string;
  mode: Mode;
  rules: RuleSpec[];
}

/**
 * Empty repeated fields and an empty ports string mean "any" (proto3 cannot tell them from unset).
 * A mode the controller left unspecified is Monitor: never block on a policy nobody chose.
 */
export function policyFromProto(p: WorkloadPolicy): WorkloadPolicySpec {
  return {
    workloadId: p.workloadId,
    mode: p.mode === PolicyMode.PROTECT ? 'protect' : 'monitor',
    rules: p.rules.map((r) => ({
      id: r.id,
      from: r.from.length ? [...r.from] : ['any'],
      to: r.to.length ? [...r.to] : ['any'],
      ports: r.ports || 'any',
      apps: r.apps.length ? [...r.apps] : ['any'],
      // An action the agent does not know must not open anything.
      action: r.action === RuleAction.ALLOW ? 'allow' : 'deny',
    })),
  };
}
