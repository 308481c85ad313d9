/**
 * A container's interfaces, read inside its network namespace (netlink link and address dumps):
 * Docker's inspect gives MACs and IPs per network but not the interface names, which the tc mirror
 * needs, and only the namespace shows every interface of a container on several networks.
 */
import type { Address, Link, Rtnl } from '../plumbing/netlink/rtnl.js';
import { isOurs } from '../plumbing/names.js';
import type { WorkloadInterface } from './types.js';

const ARPHRD_ETHER = 1;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;

/**
 * Workload interfaces: Ethernet links only (not lo, nor the tunnel devices a loaded ipip/sit module
 * puts in every namespace), and not our own `nv-` tap ends, which plumbing adds to the same
 * namespace. Link- and host-scope addresses are left out: they name nothing outside the link and
 * policy never matches them.
 */
export function workloadInterfaces(links: readonly Link[], addresses: readonly Address[]): WorkloadInterface[] {
  return links
    .filter((l) => l.type === ARPHRD_ETHER && l.ifname && l.address && !isOurs(l.ifname))
    .map((l) => ({
      name: l.ifname,
      ifindex: l.ifindex,
      mac: l.address!,
      ips: addresses.filter((a) => a.ifindex === l.ifindex && a.scope !== RT_SCOPE_LINK && a.scope !== RT_SCOPE_HOST).map((a) => a.address),
    }))
    .sort((a, b) => a.ifindex - b.ifindex);
}

/** Interfaces of the namespace of process `pid` (the agent runs in the host pid namespace). */
export async function readInterfaces(rtnl: Rtnl, pid: number): Promise<WorkloadInterface[]> {
  const netns = `/proc/${pid}/ns/net`;
  const [links, addresses] = await Promise.all([rtnl.links(netns), rtnl.addresses(netns)]);
  return workloadInterfaces(links, addresses);
}
