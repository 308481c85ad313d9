/** Links as `ip -j -d` reports them (the capture namespace's), and which failures mean "already gone". */
import { CommandError, inNetns, parseJsonList, type CommandRunner } from './command.js';
import { isNetlinkGone } from './netlink/netlink-rtnl.js';

export interface LinkInfo {
  ifname: string;
  ifindex: number;
  flags?: string[];
  inet6_addr_gen_mode?: string;
  linkinfo?: { info_kind?: string };
}

export async function listLinks(runner: CommandRunner, netns: string): Promise<LinkInfo[]> {
  return parseJsonList<LinkInfo>(await runner.run(inNetns(netns, ['ip', '-j', '-d', 'link', 'show'])));
}

/**
 * The object a delete aimed at is already gone: the link, the namespace (container exited) or the
 * filter. Deleting what is missing is success.
 */
export function isGone(err: unknown): boolean {
  if (isNetlinkGone(err)) return true;
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
