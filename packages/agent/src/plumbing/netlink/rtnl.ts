/**
 * The kernel operations of the tap path (links, addresses, the clsact mirror filters) and the Protect
 * table check, as one narrow interface like CommandRunner: the agent's is netlink (netlink-rtnl.ts),
 * unit tests pass the fake kernel. Every operation takes the namespace path it acts in.
 */

export interface Link {
  ifname: string;
  ifindex: number;
  /** ARPHRD type: 1 is Ethernet. */
  type: number;
  /** A veth's peer ifindex (in the peer's namespace). */
  peerIndex?: number;
  /** Lower-case colon-separated MAC. */
  address?: string;
  masterIndex?: number;
  up: boolean;
  /** IPv6 address generation off (no link-local address, no chatter of its own). */
  addrgenNone: boolean;
  /** veth, bridge, … (absent for plain devices). */
  kind?: string;
}

export interface LinkChange {
  /** Leave the master (bridge) the link is enslaved to. */
  noMaster?: boolean;
  address?: string;
  addrgenNone?: boolean;
  up?: boolean;
}

export interface Address {
  ifindex: number;
  address: string;
  /** RT_SCOPE_*: 0 universe, 200 site, 253 link, 254 host. */
  scope: number;
}

export type Hook = 'ingress' | 'egress';

export interface Filter {
  pref: number;
  /** Not a filter: the entry the kernel lists once per preference, or a u32 hash table. */
  table: boolean;
  /** The classifier: bpf, u32, … */
  kind?: string;
  /** A bpf filter's name (TCA_BPF_NAME): ours say which program they run. */
  name?: string;
}

export interface Rtnl {
  links(netns: string): Promise<Link[]>;
  /** One link by name; null when there is none. */
  link(netns: string, name: string): Promise<Link | null>;
  addresses(netns: string): Promise<Address[]>;
  /** Makes the pair (`peer` in `peerNetns`) and returns the `name` end read back. */
  addVeth(netns: string, name: string, peer: string, peerNetns: string): Promise<Link>;
  /** Applies the change in that order: master, address, address generation, up. */
  setLink(netns: string, name: string, change: LinkChange): Promise<void>;
  /** Deletes a link; a missing one is done. */
  delLink(netns: string, name: string): Promise<void>;
  // tc names devices by ifindex.
  hasClsact(netns: string, ifindex: number): Promise<boolean>;
  /** Filters on one clsact hook (none without the qdisc). */
  filters(netns: string, ifindex: number, hook: Hook): Promise<Filter[]>;
  /**
   * Adds the clsact qdisc (when `clsact`) and per hook a direct-action bpf filter running the
   * loaded program `prog` (its descriptor in this process) under its name, in one go.
   */
  addMirror(netns: string, ifindex: number, clsact: boolean, hooks: readonly { hook: Hook; pref: number }[], prog: { fd: number; name: string }): Promise<void>;
  /** Deletes every filter at `pref` on the hook; none there (or no device) is done. */
  delFilters(netns: string, ifindex: number, hook: Hook, pref: number): Promise<void>;
  /** Deletes the clsact qdisc; none there (or no device) is done. */
  delClsact(netns: string, ifindex: number): Promise<void>;
  /** Whether nftables has the table (family `inet`, `bridge`, …) in the namespace. */
  hasNftTable(netns: string, family: string, name: string): Promise<boolean>;
}
