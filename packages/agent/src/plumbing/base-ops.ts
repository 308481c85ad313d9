/**
 * The shared piece: the capture namespace. Each nv-in port stands alone in it (no bridge, no
 * address, no IPv6): the DP's AF_PACKET socket takes every frame the mirror delivers, and the
 * kernel then drops the frame at ip_rcv, since it is addressed to another host's MAC (the NeuV MAC
 * of a port is nobody's destination). Nothing here can send or forward: IPv4 forwarding (which a
 * new namespace inherits from the host, where dockerd turns it on) and IPv6 forwarding are off
 * and IPv6 is disabled, so a mirrored frame never goes back out through a port to a container.
 * The host namespace is never touched.
 *
 * The base also keeps the session bypass map (bypass-map.ts), pinned at
 * /sys/fs/bpf/<namespace>/bypass (mounting the bpf filesystem when the host has not), open for the
 * agent's life: the taps' mirror programs are loaded against it, the DP opens it by its path.
 *
 * Earlier versions kept the ports on a bridge, nv-br, behind an nftables `bridge` drop table:
 * each mirrored copy went through the bridge for nothing (see docs/DESIGN-NOTES.md). Both are
 * removed as orphans when found.
 */
import type { Operations } from '../reconcile/reconciler.js';
import { TerminalError } from '../reconcile/reconciler.js';
import { SysBpf, type Bpf } from './bpf.js';
import { BypassMapPin } from './bypass-map.js';
import { inNetns, namedNetnsPath, parseJsonList, type CommandRunner } from './command.js';
import { missingForMirror, probeFeatures, type KernelFeatures } from './features.js';
import { deleteIgnoringGone, isGone, listLinks } from './links.js';
import { BpfMirrorPrograms, type MirrorPrograms } from './mirror-programs.js';
import { BPFFS, bypassMapPath, NFT_TABLE, OLD_BRIDGE, pinDir } from './names.js';

export interface BaseSpec {
  netnsName: string;
}

/** The capture namespace's switches and the values they must have. */
export const CAPTURE_SYSCTL: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '0',
  'net.ipv6.conf.all.forwarding': '0',
  // `all` sets `default` too, so ports made later have no IPv6 either.
  'net.ipv6.conf.all.disable_ipv6': '1',
};

export class BaseOps implements Operations<BaseSpec> {
  /** Probed once per process: the kernel does not change under a running agent. */
  features: KernelFeatures | null = null;
  readonly map: BypassMapPin;
  /** The taps' mirror programs, loaded against the map the base keeps open. */
  readonly programs: MirrorPrograms;
  private programLoads = false;

  constructor(
    private readonly runner: CommandRunner,
    private readonly bpf: Bpf = new SysBpf(),
    /** The map was replaced (its pin had gone): every filter names the old one and must be redone. */
    private readonly onNewMap: () => void = () => {},
  ) {
    this.map = new BypassMapPin(bpf);
    this.programs = new BpfMirrorPrograms(bpf, () => this.map.current);
  }

  async update(spec: BaseSpec): Promise<void> {
    const path = namedNetnsPath(spec.netnsName);
    const names = parseJsonList<{ name: string }>(await this.runner.run(['ip', '-j', 'netns', 'list'])).map((n) => n.name);
    if (!names.includes(spec.netnsName)) await this.runner.run(['ip', 'netns', 'add', spec.netnsName]);

    this.features ??= await probeFeatures(this.runner, path);
    const missing = missingForMirror(this.features);
    if (missing.length) throw new TerminalError(`kernel lacks ${missing.join(', ')}: traffic cannot be mirrored`);

    if (!this.bpf.isBpfFs(BPFFS)) await this.runner.run(['mount', '-t', 'bpf', 'bpf', BPFFS]);
    this.bpf.mkdir(pinDir(spec.netnsName));
    const before = this.map.current?.id;
    const map = this.map.ensure(bypassMapPath(spec.netnsName));
    if (before !== undefined && map.id !== before) this.onNewMap();
    if (!this.programLoads) this.checkProgram();

    // Deleting the bridge releases its ports; they stay (tap-ops adopts them as they are).
    if ((await listLinks(this.runner, path)).some((l) => l.ifname === OLD_BRIDGE)) {
      await deleteIgnoringGone(this.runner, inNetns(path, ['ip', 'link', 'del', OLD_BRIDGE]));
    }
    if (await this.hasOldTable(path)) await deleteIgnoringGone(this.runner, inNetns(path, ['nft', 'delete', 'table', 'bridge', NFT_TABLE]));

    // -e: without IPv6 in the kernel its keys do not exist, and there is nothing to turn off.
    const now = new Map<string, string>();
    for (const line of (await this.runner.run(inNetns(path, ['sysctl', '-e', ...Object.keys(CAPTURE_SYSCTL)]))).split('\n')) {
      const m = /^(\S+) = (.*)$/.exec(line.trim());
      if (m) now.set(m[1], m[2]);
    }
    const fix = Object.entries(CAPTURE_SYSCTL).filter(([k, v]) => now.has(k) && now.get(k) !== v);
    if (fix.length) await this.runner.run(inNetns(path, ['sysctl', '-q', '-w', ...fix.map(([k, v]) => `${k}=${v}`)]));
  }

  /** Removing the namespace removes every nv-in port (and their nv-ex peers); the pins go with it. */
  async delete(spec: BaseSpec): Promise<void> {
    await deleteIgnoringGone(this.runner, ['ip', 'netns', 'del', spec.netnsName]);
    this.map.release();
    this.bpf.remove(pinDir(spec.netnsName));
  }

  /** Nothing to prune: the base is one object, and the host namespace holds nothing of ours. */
  async prune(): Promise<void> {}

  /** Once per process: a kernel whose verifier refuses the program can mirror nothing. */
  private checkProgram(): void {
    let prog;
    try {
      prog = this.programs.load(1, 0);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EINVAL' || code === 'EACCES' || code === 'EPERM') throw new TerminalError(`kernel refuses the mirror program: ${(err as Error).message}`);
      throw err;
    }
    this.programs.close(prog.fd);
    this.programLoads = true;
  }

  private async hasOldTable(path: string): Promise<boolean> {
    try {
      await this.runner.run(inNetns(path, ['nft', '-j', 'list', 'table', 'bridge', NFT_TABLE]));
      return true;
    } catch (err) {
      if (isGone(err)) return false;
      throw err;
    }
  }
}
