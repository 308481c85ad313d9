/**
 * The shared pieces: the capture namespace, the bridge nv-br in it, and an nftables `bridge`
 * table there that drops everything the bridge would forward, hand up to its own stack or send itself
 * (nv-br has no address; its IGMP/MLD chatter must not reach the DP as if a workload sent it). Ports
 * also have learning and flooding off (tap-ops), so a mirrored frame can never leave through
 * another port: the drop table is the second wall. The DP's AF_PACKET socket sees frames before
 * the bridge, so the drop costs capture nothing. The host namespace is never touched.
 *
 * br_netfilter (loaded by dockerd) passes bridged frames through the ip/ip6/arp hooks of the
 * namespace the bridge is in, by default in every namespace. In the capture namespace that is
 * only cost: every mirrored copy took a trip through the netfilter hooks on nv-br (about a sixth of
 * the mirror's CPU). The bridge table above is not affected by these switches.
 */
import type { Operations } from '../reconcile/reconciler.js';
import { TerminalError } from '../reconcile/reconciler.js';
import { inNetns, namedNetnsPath, parseJsonList, type CommandRunner } from './command.js';
import { missingForMirror, probeFeatures, type KernelFeatures } from './features.js';
import { deleteIgnoringGone, isGone, isUp, listLinks } from './links.js';
import { BRIDGE, NFT_TABLE } from './names.js';

export interface BaseSpec {
  netnsName: string;
}

interface NftObject {
  chain?: { name: string; hook?: string; policy?: string };
  rule?: { chain: string };
}

const BRIDGE_NF = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.bridge.bridge-nf-call-arptables'];

const BRIDGE_TABLE_SCRIPT = `table bridge ${NFT_TABLE} {}
delete table bridge ${NFT_TABLE}
table bridge ${NFT_TABLE} {
  chain forward { type filter hook forward priority 0; policy drop; }
  chain input { type filter hook input priority 0; policy drop; }
  chain output { type filter hook output priority 0; policy drop; }
}
`;

export class BaseOps implements Operations<BaseSpec> {
  /** Probed once per process: the kernel does not change under a running agent. */
  features: KernelFeatures | null = null;

  constructor(private readonly runner: CommandRunner) {}

  async update(spec: BaseSpec): Promise<void> {
    const path = namedNetnsPath(spec.netnsName);
    const names = parseJsonList<{ name: string }>(await this.runner.run(['ip', '-j', 'netns', 'list'])).map((n) => n.name);
    if (!names.includes(spec.netnsName)) await this.runner.run(['ip', 'netns', 'add', spec.netnsName]);

    this.features ??= await probeFeatures(this.runner, path);
    const missing = missingForMirror(this.features);
    if (missing.length) throw new TerminalError(`kernel lacks ${missing.join(', ')}: traffic cannot be mirrored`);

    const br = (await listLinks(this.runner, path)).find((l) => l.ifname === BRIDGE);
    if (br && br.linkinfo?.info_kind !== 'bridge') await this.runner.run(inNetns(path, ['ip', 'link', 'del', BRIDGE]));
    if (!br || br.linkinfo?.info_kind !== 'bridge') {
      await this.runner.run(inNetns(path, ['ip', 'link', 'add', BRIDGE, 'type', 'bridge']));
    }
    const fresh = !br || br.linkinfo?.info_kind !== 'bridge';
    // No IPv6 link-local address: nv-br sends nothing of its own.
    const set = [...(fresh || br.inet6_addr_gen_mode !== 'none' ? ['addrgenmode', 'none'] : []), ...(fresh || !isUp(br) ? ['up'] : [])];
    if (set.length) await this.runner.run(inNetns(path, ['ip', 'link', 'set', 'dev', BRIDGE, ...set]));

    if (!(await this.bridgeTableOk(path))) await this.runner.run(inNetns(path, ['nft', '-f', '-']), { input: BRIDGE_TABLE_SCRIPT });

    // -e: without br_netfilter the keys do not exist, and there is nothing to turn off.
    const on = (await this.runner.run(inNetns(path, ['sysctl', '-n', '-e', ...BRIDGE_NF]))).split('\n').some((v) => v.trim() === '1');
    if (on) await this.runner.run(inNetns(path, ['sysctl', '-q', '-e', '-w', ...BRIDGE_NF.map((k) => `${k}=0`)]));
  }

  /** Removing the namespace removes the bridge, its table and every nv-in port (and their nv-ex peers). */
  async delete(spec: BaseSpec): Promise<void> {
    await deleteIgnoringGone(this.runner, ['ip', 'netns', 'del', spec.netnsName]);
  }

  /** Nothing to prune: the base is one object, and the host namespace holds nothing of ours. */
  async prune(): Promise<void> {}

  private async bridgeTableOk(path: string): Promise<boolean> {
    let text: string;
    try {
      text = await this.runner.run(inNetns(path, ['nft', '-j', 'list', 'table', 'bridge', NFT_TABLE]));
    } catch (err) {
      if (isGone(err)) return false;
      throw err;
    }
    const objs = (JSON.parse(text) as { nftables: NftObject[] }).nftables;
    const chains = objs.flatMap((o) => (o.chain ? [o.chain] : []));
    const rules = objs.filter((o) => o.rule);
    const dropping = (name: string): boolean => chains.some((c) => c.name === name && c.hook === name && c.policy === 'drop');
    return chains.length === 3 && rules.length === 0 && dropping('forward') && dropping('input') && dropping('output');
  }
}
