/**
 * Which tc pieces the kernel offers, probed by trying them on a throw-away veth pair inside the
 * capture namespace (modules may be built in, so /proc/modules says nothing). The mirror needs
 * sch_clsact, cls_u32 and act_mirred; cls_matchall and act_gact are recorded because this kernel
 * family often lacks them, and the mirror is built so it never needs them.
 */
import { CommandError, inNetns, type CommandRunner } from './command.js';
import { deleteIgnoringGone } from './links.js';

export interface KernelFeatures {
  clsact: boolean;
  u32: boolean;
  mirred: boolean;
  matchall: boolean;
  gact: boolean;
}

const PROBE_A = 'nv-probe0';
const PROBE_B = 'nv-probe1';

export function missingForMirror(f: KernelFeatures): string[] {
  const missing: string[] = [];
  if (!f.clsact) missing.push('sch_clsact');
  if (!f.u32) missing.push('cls_u32');
  if (!f.mirred) missing.push('act_mirred');
  return missing;
}

async function tries(runner: CommandRunner, argv: string[]): Promise<string | null> {
  try {
    await runner.run(argv);
    return null;
  } catch (err) {
    if (err instanceof CommandError) return err.stderr;
    throw err;
  }
}

export async function probeFeatures(runner: CommandRunner, netns: string): Promise<KernelFeatures> {
  const ns = (argv: string[]): string[] => inNetns(netns, argv);
  await deleteIgnoringGone(runner, ns(['ip', 'link', 'del', PROBE_A]));
  await runner.run(ns(['ip', 'link', 'add', PROBE_A, 'type', 'veth', 'peer', 'name', PROBE_B]));
  try {
    const clsact = (await tries(runner, ns(['tc', 'qdisc', 'add', 'dev', PROBE_A, 'clsact']))) === null;
    const filter = (pref: string, rest: string[]): string[] =>
      ns(['tc', 'filter', 'add', 'dev', PROBE_A, 'ingress', 'protocol', 'all', 'pref', pref, ...rest]);
    const mirror = ['action', 'mirred', 'egress', 'mirror', 'dev', PROBE_B];
    const u32Err = clsact ? await tries(runner, filter('1', ['u32', 'match', 'u32', '0', '0', ...mirror])) : 'no clsact';
    // "TC classifier not found" names the classifier, "action module" the action.
    const u32 = u32Err === null || !/classifier/i.test(u32Err);
    const mirred = u32Err === null;
    const matchall = clsact && (await tries(runner, filter('2', ['matchall', ...mirror]))) === null;
    const gact = clsact && u32 && (await tries(runner, filter('3', ['u32', 'match', 'u32', '0', '0', 'action', 'drop']))) === null;
    return { clsact, u32: clsact && u32, mirred: clsact && mirred, matchall, gact };
  } finally {
    await deleteIgnoringGone(runner, ns(['ip', 'link', 'del', PROBE_A]));
  }
}
