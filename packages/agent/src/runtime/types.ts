/**
 * A container as the agent sees it: what the reconcilers (plumbing, enforcement) compute their
 * desired state from, and what the controller link reports.
 */

/**
 * running: monitored (plumbing and, in Protect mode, enforcement apply). stopped: not running.
 * unmonitored: running, but the agent cannot or must not plumb it; `reason` says why.
 */
export type WorkloadState = 'running' | 'stopped' | 'unmonitored';

export interface WorkloadInterface {
  /** Name inside the container's network namespace (eth0, eth1, …). */
  name: string;
  /** ifindex inside the container's network namespace (part of the tap's name, see plumbing/names.ts). */
  ifindex: number;
  /** Lower-case colon-separated MAC. */
  mac: string;
  /** IPv4 and global/site IPv6 addresses without prefix length; link-local ones are left out. */
  ips: string[];
}

export interface Workload {
  /** Container id, 64 hex characters. */
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  service: string;
  host: string;
  /** Container init's pid in the agent's pid namespace; 0 when not running. */
  pid: number;
  /** /proc/<pid>/ns/net, or '' when stopped or on the host network. */
  netns: string;
  interfaces: WorkloadInterface[];
  state: WorkloadState;
  /** Why a running workload is unmonitored; '' otherwise. */
  reason: string;
}
