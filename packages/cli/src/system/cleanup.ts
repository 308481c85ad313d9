/**
 * Removes what a stack made in the kernel, with the agent's own reconcilers' prune and delete
 * (they know its names: `nv-` links, the mirror filters, `inet mseg` tables, the capture
 * namespace with the nv-in ports, and an earlier version's nv-br), given "nothing is desired". Container
 * namespaces are those of the containers of the Docker engine the stack watched: exactly where
 * its agent could have put anything, and nowhere else. The namespace's pinned bpf objects (the
 * session bypass map) go too, even when the namespace itself is already gone.
 */
import { statSync } from 'node:fs';
import { ExecRunner, parseJsonList, type CommandRunner } from '@mseg/agent/dist/plumbing/command.js';
import { BaseOps } from '@mseg/agent/dist/plumbing/base-ops.js';
import { MirrorOps } from '@mseg/agent/dist/plumbing/mirror-ops.js';
import { NetlinkRtnl } from '@mseg/agent/dist/plumbing/netlink/netlink-rtnl.js';
import type { Rtnl } from '@mseg/agent/dist/plumbing/netlink/rtnl.js';
import { VethOps } from '@mseg/agent/dist/plumbing/veth-ops.js';
import { TableOps } from '@mseg/agent/dist/enforce/table-ops.js';
import { containerPids } from './docker.js';

export interface CleanupReport {
  containerNamespaces: number;
  captureNamespaceRemoved: boolean;
  /** Docker did not answer: container namespaces were not looked at. */
  dockerError: string | null;
}

/** /proc/PID/ns/net of each pid, one per distinct namespace, without the host's. */
export function distinctNamespaces(pids: readonly number[]): string[] {
  const inode = (path: string) => {
    try {
      return statSync(path).ino;
    } catch {
      return null;
    }
  };
  const host = inode('/proc/1/ns/net');
  const seen = new Set<number>();
  const out: string[] = [];
  for (const pid of pids) {
    const path = `/proc/${pid}/ns/net`;
    const ino = inode(path);
    if (ino === null || ino === host || seen.has(ino)) continue;
    seen.add(ino);
    out.push(path);
  }
  return out;
}

export async function cleanupKernel(opts: { netns: string; dockerSocket: string; runner?: CommandRunner; rtnl?: Rtnl }): Promise<CleanupReport> {
  const runner = opts.runner ?? new ExecRunner();
  const rtnl = opts.rtnl ?? new NetlinkRtnl();
  let pids: number[] = [];
  let dockerError: string | null = null;
  try {
    pids = await containerPids(opts.dockerSocket);
  } catch (e) {
    dockerError = (e as Error).message;
  }
  const known = distinctNamespaces(pids);
  const base = new BaseOps(runner);
  await new TableOps(runner, rtnl, () => known).prune([]);
  await new MirrorOps(rtnl, base.programs).prune([], known);
  const names = parseJsonList<{ name: string }>(await runner.run(['ip', '-j', 'netns', 'list'])).map((n) => n.name);
  const capture = names.includes(opts.netns);
  // Deleting an nv-in end in the capture namespace deletes its nv-ex peer in the container too;
  // without the capture namespace there is no pair left to remove.
  if (capture) await new VethOps(rtnl, opts.netns).prune([], known);
  await base.delete({ netnsName: opts.netns });
  return { containerNamespaces: known.length, captureNamespaceRemoved: capture, dockerError };
}
