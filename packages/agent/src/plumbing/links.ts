/** Reading links and tc objects as the kernel reports them (`ip -j -d`, `tc -j`). */
import { CommandError, inNetns, parseJsonList, type CommandRunner } from './command.js';

export interface LinkInfo {
  ifname: string;
  ifindex: number;
  /** The peer's ifindex (in its own namespace) for a veth. */
  link_index?: number;
  address?: string;
  master?: string;
  flags?: string[];
  inet6_addr_gen_mode?: string;
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_slave_data?: { learning?: boolean; flood?: boolean; mcast_flood?: boolean; bcast_flood?: boolean };
  };
}

export async function listLinks(runner: CommandRunner, netns: string): Promise<LinkInfo[]> {
  return parseJsonList<LinkInfo>(await runner.run(inNetns(netns, ['ip', '-j', '-d', 'link', 'show'])));
}

/** One link by name, or null when there is none (one small read instead of the whole list). */
export async function getLink(runner: CommandRunner, netns: string, name: string): Promise<LinkInfo | null> {
  try {
    return parseJsonList<LinkInfo>(await runner.run(inNetns(netns, ['ip', '-j', '-d', 'link', 'show', 'dev', name])))[0] ?? null;
  } catch (err) {
    if (isGone(err) && !/nsenter/.test((err as CommandError).stderr)) return null;
    throw err;
  }
}

export function isUp(l: LinkInfo): boolean {
  return l.flags?.includes('UP') ?? false;
}

/**
 * The object a delete aimed at is already gone: the link, the namespace (container exited) or the
 * filter. Deleting what is missing is success.
 */
export function isGone(err: unknown): boolean {
  if (!(err instanceof CommandError)) return false;
  return /Cannot find device|does not exist|No such file or directory|No such device|Cannot open network namespace|Cannot find specified qdisc|Filter with specified priority\/protocol not found|Parent Qdisc doesn't exists/i.test(
    err.stderr,
  );
}

/** Runs a delete; a missing target counts as done. */
export async function deleteIgnoringGone(runner: CommandRunner, argv: string[]): Promise<void> {
  try {
    await runner.run(argv);
  } catch (err) {
    if (!isGone(err)) throw err;
  }
}
