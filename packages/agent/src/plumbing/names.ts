/**
 * Names and addresses of what the agent creates, in one place: every reconciler and the prune of
 * orphans rely on these prefixes to know what is ours (`nv-` links, the `mseg` namespace and
 * nftables table) and never touch anything else.
 */

/** Network namespace holding every nv-in-* port; the DP captures inside it. */
export const MSEG_NETNS = 'mseg';
/** The bridge earlier versions kept the ports on (with a `bridge` table of NFT_TABLE's name): an orphan now. */
export const OLD_BRIDGE = 'nv-br';
export const LINK_PREFIX = 'nv-';
/** nftables table the agent owns inside each Protect container's namespace. */
export const NFT_TABLE = 'mseg';
/** Where the bpf filesystem is mounted; each capture namespace pins its objects in a directory of its name. */
export const BPFFS = '/sys/fs/bpf';

/** The directory of a capture namespace's pinned objects. */
export function pinDir(netnsName: string): string {
  return `${BPFFS}/${netnsName}`;
}

/** The pinned session bypass map the mirror programs read and the DP fills. */
export function bypassMapPath(netnsName: string): string {
  return `${pinDir(netnsName)}/bypass`;
}

/** Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
const IFNAMSIZ = 15;

/** Capture-side end of a container interface's tap pair: `nv-in-<short id><if index>`. */
export function inName(containerId: string, ifIndexInContainer: number): string {
  return `nv-in-${containerId.slice(0, IFNAMSIZ - 6 - String(ifIndexInContainer).length)}${ifIndexInContainer}`;
}

/** Container-side end: `nv-ex-<container interface name>`, truncated to fit. */
export function exName(containerIfName: string): string {
  return `nv-ex-${containerIfName}`.slice(0, IFNAMSIZ);
}

/** "NeuV" MAC of a tap end: 4e:65:75:56 ("NeuV" in ASCII), then the host-side ifindex. */
export function neuvMac(ifindex: number): string {
  if (!Number.isInteger(ifindex) || ifindex < 0 || ifindex > 0xffff) throw new RangeError(`ifindex ${ifindex} does not fit a NeuV MAC`);
  const hh = (ifindex >> 8).toString(16).padStart(2, '0');
  const ll = (ifindex & 255).toString(16).padStart(2, '0');
  return `4e:65:75:56:${hh}:${ll}`;
}

export function isOurs(linkName: string): boolean {
  return linkName.startsWith(LINK_PREFIX);
}
