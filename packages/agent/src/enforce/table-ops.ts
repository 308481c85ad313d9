/**
 * Reconciler operations for Protect tables: `inet mseg` in each Protect container's namespace.
 * Update asks netlink whether the table exists (in-process); a new container has none, and gets
 * its table from one `nft -f` (the atomic replace script). An existing table is read
 * (`nft -j list table`), kept when the hash comment and rule counts match, and otherwise replaced
 * in one transaction, carrying live cut entries over. A table this process wrote (or found right)
 * with no cut entry put in since holds nothing to carry over: a new rule set replaces it without
 * the read; the periodic refresh of an unchanged rule set still reads it. Delete
 * removes the table (the namespace being gone counts as done). Prune removes our table from known
 * container namespaces that are not in Protect; it never touches another table.
 */
import type { Operations } from '../reconcile/reconciler.js';
import { inNetns, type CommandRunner } from '../plumbing/command.js';
import { deleteIgnoringGone, isGone } from '../plumbing/links.js';
import { NFT_TABLE } from '../plumbing/names.js';
import type { Rtnl } from '../plumbing/netlink/rtnl.js';
import { compileDirection } from './compile.js';
import { hashComment, renderTable, type CutFlow } from './nft-script.js';
import type { ProtectSpec } from './types.js';

interface NftItem {
  rule?: { chain: string; comment?: string };
  set?: { name: string; type?: string | string[]; elem?: { elem?: { val?: { concat?: (string | number)[] }; expires?: number } }[] };
}

export function renderSpec(spec: ProtectSpec, cuts: readonly CutFlow[] = []): ReturnType<typeof renderTable> {
  const fqdn = new Map(spec.fqdn);
  return renderTable(
    { in: compileDirection('in', spec.rules, spec.ips, fqdn), out: compileDirection('out', spec.rules, spec.ips, fqdn) },
    cuts,
  );
}

export class TableOps implements Operations<ProtectSpec> {
  constructor(
    private readonly runner: CommandRunner,
    private readonly rtnl: Rtnl,
    /** Every container namespace the agent knows of (prune looks only there). */
    private readonly knownNetns: () => readonly string[],
    private readonly onApplied?: (spec: ProtectSpec) => void,
  ) {}

  /** Hash of the table last written or found right per namespace, while it holds no cut entries. */
  private readonly clean = new Map<string, string>();

  /** A cut entry goes into the namespace's table: the next replacement must read it to carry it over. */
  forget(netns: string): void {
    this.clean.delete(netns);
  }

  async update(spec: ProtectSpec): Promise<void> {
    const want = renderSpec(spec);
    const last = this.clean.get(spec.netns);
    if (last !== undefined && last !== want.hash) return this.write(spec, want.script, want.hash, 0);
    const have = last !== undefined || (await this.rtnl.hasNftTable(spec.netns, 'inet', NFT_TABLE)) ? await this.read(spec.netns) : null;
    if (have) {
      const rules = (chain: string) => have.filter((i) => i.rule?.chain === chain).map((i) => i.rule!);
      const ok = (['input', 'output'] as const).every((c) => {
        const r = rules(c);
        return r.length === want.ruleCounts[c] && r[r.length - 1]?.comment === hashComment(want.hash);
      });
      if (ok) {
        if (liveCuts(have).length === 0) this.clean.set(spec.netns, want.hash);
        this.onApplied?.(spec);
        return;
      }
    }
    const cuts = have ? liveCuts(have) : [];
    await this.write(spec, renderSpec(spec, cuts).script, want.hash, cuts.length);
  }

  async delete(spec: ProtectSpec): Promise<void> {
    this.clean.delete(spec.netns);
    await deleteIgnoringGone(this.runner, inNetns(spec.netns, ['nft', 'delete', 'table', 'inet', NFT_TABLE]));
  }

  async prune(all: readonly ProtectSpec[]): Promise<void> {
    const protect = new Set(all.map((s) => s.netns));
    for (const netns of this.knownNetns()) {
      if (protect.has(netns)) continue;
      this.clean.delete(netns);
      if (await this.exists(netns)) await deleteIgnoringGone(this.runner, inNetns(netns, ['nft', 'delete', 'table', 'inet', NFT_TABLE]));
    }
  }

  private async write(spec: ProtectSpec, script: string, hash: string, cuts: number): Promise<void> {
    // Until the write is known to have landed, the table's content is unknown.
    this.clean.delete(spec.netns);
    await this.runner.run(inNetns(spec.netns, ['nft', '-f', '-']), { input: script });
    if (cuts === 0) this.clean.set(spec.netns, hash);
    this.onApplied?.(spec);
  }

  private async exists(netns: string): Promise<boolean> {
    try {
      return await this.rtnl.hasNftTable(netns, 'inet', NFT_TABLE);
    } catch (err) {
      if (isGone(err)) return false;
      throw err;
    }
  }

  /** The table's objects, or null when there is none (or the namespace is gone). */
  private async read(netns: string): Promise<NftItem[] | null> {
    try {
      const text = await this.runner.run(inNetns(netns, ['nft', '-j', 'list', 'table', 'inet', NFT_TABLE]));
      return (JSON.parse(text) as { nftables: NftItem[] }).nftables;
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }
}

/** Cut entries still running in the kernel, with the seconds they have left. */
function liveCuts(items: NftItem[]): CutFlow[] {
  const out: CutFlow[] = [];
  for (const i of items) {
    if (i.set?.name !== 'cut4' && i.set?.name !== 'cut6') continue;
    for (const e of i.set.elem ?? []) {
      const v = e.elem?.val?.concat;
      if (!v || v.length !== 5) continue;
      const proto = typeof v[2] === 'number' ? v[2] : v[2] === 'tcp' ? 6 : v[2] === 'udp' ? 17 : v[2] === 'sctp' ? 132 : Number(v[2]);
      out.push({ v6: i.set.name === 'cut6', saddr: String(v[0]), daddr: String(v[1]), proto, sport: Number(v[3]), dport: Number(v[4]), timeout: e.elem?.expires ?? 1 });
    }
  }
  return out;
}
