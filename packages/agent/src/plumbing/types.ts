/**
 * What plumbing needs to know of a workload; the runtime maps its Docker view onto this. Only
 * running containers with their own network namespace belong here (host-network and paused ones
 * are reported by the runtime and never plumbed).
 */
export interface PlumbingWorkload {
  /** Full container id (the short id in tap names is its first characters). */
  id: string;
  /** The container's network namespace: /proc/<pid>/ns/net (or /run/netns/NAME in tests). */
  netns: string;
  interfaces: PlumbingInterface[];
}

export interface PlumbingInterface {
  /** Interface name inside the container (eth0, eth1, …). */
  name: string;
  /** Its ifindex inside the container: makes the nv-in name unique per interface. */
  ifindex: number;
  mac: string;
  ips: string[];
}

/** One mirrored container interface: the veth pair and the tc mirror of both directions. */
export interface TapSpec {
  workloadId: string;
  netns: string;
  /** The container interface mirrored, and its ifindex there (tc names devices by index). */
  ifName: string;
  ifIndex: number;
  /** nv-ex-<if>, in the container namespace: the mirror target. */
  exName: string;
  /** nv-in-<short id><n>, standalone in the mseg namespace: the DP's port. */
  inName: string;
  mac: string;
  ips: string[];
}

/** Where the shared pieces live; tests pass a per-run namespace name instead of `mseg`. */
export interface PlumbingConfig {
  /** Name of the capture namespace (`ip netns add` name). */
  netnsName: string;
}
