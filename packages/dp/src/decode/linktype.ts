/** pcap link types the decoder understands (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  /** Some BSDs write DLT_RAW's own number instead of LINKTYPE_RAW. */
  RAW_ALT12: 12,
  RAW_ALT14: 14,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
  IPV4: 228,
  IPV6: 229,
} as const;

export function isSupportedLinkType(t: number): boolean {
  return (
    t === LinkType.ETHERNET ||
    t === LinkType.RAW ||
    t === LinkType.RAW_ALT12 ||
    t === LinkType.RAW_ALT14 ||
    t === LinkType.LINUX_SLL ||
    t === LinkType.LINUX_SLL2 ||
    t === LinkType.IPV4 ||
    t === LinkType.IPV6 ||
    t === LinkType.NULL
  );
}
