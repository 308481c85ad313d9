/**
 * Which tc pieces the kernel offers, probed by trying them on a throw-away veth pair inside the
 * capture namespace (modules may be built in, so /proc/modules says nothing). The mirror needs
 * sch_clsact and cls_bpf (its filters run the mirror program; whether the kernel accepts that
 * program the base checks by loading it).
 */
import { CommandError, inNetns, type CommandRunner } from './command.js';
import { deleteIgnoringGone } from './links.js';

export interface KernelFeatures {
  clsact: boolean;
  clsBpf: boolean;
}

const PROBE_A = 'nv-probe0';
const PROBE_B = 'nv-probe1';
/** A classic BPF program of one instruction, `ret #0`: enough for cls_bpf to take a filter. */
const CLASSIC_RET_0 = '1,6 0 0 0,';

export function missingForMirror(f: KernelFeatures): string[] {
  const missing: string[] = [];
  if (!f.clsact) missing.push('sch_clsact');
  if (!f.clsBpf) missing.push('cls_bpf');
  return missing;
}

async function succeeds(runner: CommandRunner, argv: string[]): Promise<boolean> {
  try {
    await runner.run(argv);
    return true;
  } catch (err) {
    if (err instanceof CommandError) return false;
    throw err;
  }
}

export async function probeFeatures(runner: CommandRunner, netns: string): Promise<KernelFeatures> {
  const ns = (argv: string[]): string[] => inNetns(netns, argv);
  await deleteIgnoringGone(runner, ns(['ip', 'link', 'del', PROBE_A]));
  await runner.run(ns(['ip', 'link', 'add', PROBE_A, 'type', 'veth', 'peer', 'name', PROBE_B]));
  try {
    const clsact = await succeeds(runner, ns(['tc', 'qdisc', 'add', 'dev', PROBE_A, 'clsact']));
    const clsBpf = clsact && (await succeeds(runner, ns(['tc', 'filter', 'add', 'dev', PROBE_A, 'ingress', 'protocol', 'all', 'pref', '1', 'bpf', 'bytecode', CLASSIC_RET_0])));
    return { clsact, clsBpf };
  } finally {
    await deleteIgnoringGone(runner, ns(['ip', 'link', 'del', PROBE_A]));
  }
}
