/**
 * A container's interfaces, read inside its network namespace (`ip -j addr`): Docker's inspect
 * gives MACs and IPs per network but not the interface names, which the tc mirror needs, and
 * only the namespace shows every interface of a container on several networks.
 */
import { isOurs } from '../plumbing/names.js';
import { inNetns, type CommandRunner } from '../plumbing/command.js';
import type { WorkloadInterface } from './types.js';

interface IpAddrEntry {
  ifindex?: number;
  ifname?: string;
  link_type?: string;
  address?: string;
  addr_info?: { family?: string; local?: string; scope?: string }[];
}

/**
 * Workload interfaces from `ip -j addr` output: Ethernet links only (not lo, nor the tunnel
 * devices a loaded ipip/sit module puts in every namespace), and not our own `nv-` tap ends,
 * which plumbing adds to the same namespace. Link-scope addresses are left out: they name
 * nothing outside the link and policy never matches them.
 */
export function parseIpAddr(json: string): WorkloadInterface[] {
  const entries = JSON.parse(json) as IpAddrEntry[];
  const out: WorkloadInterface[] = [];
  for (const e of entries) {
    if (e.link_type !== 'ether' || !e.ifname || e.ifindex === undefined || !e.address) continue;
    if (isOurs(e.ifname)) continue;
    const ips = (e.addr_info ?? [])
      .filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local && a.scope !== 'link' && a.scope !== 'host')
      .map((a) => a.local as string);
    out.push({ name: e.ifname, ifindex: e.ifindex, mac: e.address.toLowerCase(), ips });
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

/** Interfaces of the namespace of process `pid` (the agent runs in the host pid namespace). */
export async function readInterfaces(runner: CommandRunner, pid: number): Promise<WorkloadInterface[]> {
  return parseIpAddr(await runner.run(inNetns(`/proc/${pid}/ns/net`, ['ip', '-j', 'addr', 'show'])));
}
