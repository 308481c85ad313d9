import type { Mode, RuleSpec } from '@mseg/dp';

/** What enforcement needs of a workload; the agent maps workloads and compiled policies onto it. */
export interface EnforceWorkload {
  workloadId: string;
  /** The container's network namespace path. */
  netns: string;
  /** The workload's own addresses (decides which rules concern which direction). */
  ips: string[];
  mode: Mode;
  /** Compiled policy for this workload, in order (the DP rule shape). */
  rules: RuleSpec[];
  /** The rules are the agent's stand-in until the controller's own arrive (see provisional.ts). */
  provisional?: boolean;
}

/** A Protect table as the reconciler keeps it: everything its script is made from. */
export interface ProtectSpec {
  workloadId: string;
  netns: string;
  ips: string[];
  rules: RuleSpec[];
  /** Resolved addresses of the domains the rules name (only those), sorted. */
  fqdn: [string, string[]][];
  /** A stand-in table (see provisional.ts): replaced once the controller's rule set arrives. */
  provisional: boolean;
}

/** One packet the kernel denied, read from the NFLOG of a Protect container. */
export interface DenyRecord {
  workloadId: string;
  action: 'deny';
  /** The rule that decided (0: no rule allowed it). */
  ruleId: number;
  /** ingress: the workload served (input hook); egress: it was the client (output hook). */
  direction: 'ingress' | 'egress';
  proto: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** ms since the epoch, from the kernel's timestamp. */
  at: number;
}
