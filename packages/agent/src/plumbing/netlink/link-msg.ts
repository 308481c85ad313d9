/**
 * rtnetlink link and address messages (linux/rtnetlink.h, if_link.h, if_addr.h): requests built
 * as `ip link`/`ip addr` send them, replies read into Link/Address.
 */
import { formatAddress } from '@mseg/dp';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, attr, message, nest, parseAttrs, str, text, u32, u8, type Message } from './message.js';
import type { Address, Link, LinkChange } from './rtnl.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_GETADDR = 22;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_AF_SPEC = 26;
const IFLA_NET_NS_FD = 28;
const IFLA_EXT_MASK = 29;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
/** Replies without the statistics blocks: half the bytes, none of which the agent reads. */
const RTEXT_FILTER_SKIP_STATS = 8;
const IFF_UP = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

export function getLinkMsg(name: string): Buffer {
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfomsg(), u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS), str(IFLA_IFNAME, name));
}

export function dumpLinksMsg(): Buffer {
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, ifinfomsg(), u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS));
}

export function dumpAddressesMsg(): Buffer {
  return message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, Buffer.alloc(8));
}

/** `ip link add NAME type veth peer name PEER netns …`, the peer's namespace given by an open fd. */
export function addVethMsg(name: string, peer: string, peerNetnsFd: number): Buffer {
  const peerInfo = Buffer.concat([ifinfomsg(), u32(IFLA_NET_NS_FD, peerNetnsFd), str(IFLA_IFNAME, peer)]);
  return message(
    RTM_NEWLINK,
    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    ifinfomsg(),
    str(IFLA_IFNAME, name),
    nest(IFLA_LINKINFO, str(IFLA_INFO_KIND, 'veth', false), nest(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peerInfo))),
  );
}

export function delLinkMsg(name: string): Buffer {
  return message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfomsg(), str(IFLA_IFNAME, name));
}

/**
 * The change as messages, in the order the kernel must see them: master, MAC and address
 * generation first (no link-local address may be made between up and addrgenmode none); then up.
 */
export function setLinkMsgs(name: string, change: LinkChange): Buffer[] {
  const first: Buffer[] = [];
  // Master index 0 is `nomaster`.
  if (change.noMaster) first.push(u32(IFLA_MASTER, 0));
  if (change.address) first.push(attr(IFLA_ADDRESS, macBytes(change.address)));
  if (change.addrgenNone) first.push(nest(IFLA_AF_SPEC, nest(AF_INET6, u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE))));
  const out: Buffer[] = [];
  if (first.length) out.push(message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfomsg(), str(IFLA_IFNAME, name), ...first));
  if (change.up) out.push(message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfomsg(0, IFF_UP, IFF_UP), str(IFLA_IFNAME, name)));
  return out;
}

function macBytes(mac: string): Buffer {
  const b = Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
  if (b.length !== 6 || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new RangeError(`address: "${mac}" is not a MAC address`);
  return b;
}

function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseLink(m: Message): Link {
  const a = parseAttrs(m.body, 16);
  const info = a.get(IFLA_LINKINFO) ? parseAttrs(a.get(IFLA_LINKINFO)!) : new Map<number, Buffer>();
  const inet6 = a.get(IFLA_AF_SPEC) ? parseAttrs(a.get(IFLA_AF_SPEC)!).get(AF_INET6) : undefined;
  const genMode = inet6 ? parseAttrs(inet6).get(IFLA_INET6_ADDR_GEN_MODE)?.[0] : undefined;
  const link: Link = {
    ifname: text(a.get(IFLA_IFNAME)) ?? '',
    ifindex: m.body.readInt32LE(4),
    type: m.body.readUInt16LE(2),
    up: (m.body.readUInt32LE(8) & IFF_UP) !== 0,
    addrgenNone: genMode === IN6_ADDR_GEN_MODE_NONE,
  };
  const peer = a.get(IFLA_LINK);
  if (peer) link.peerIndex = peer.readInt32LE(0);
  const mac = a.get(IFLA_ADDRESS);
  if (mac) link.address = macText(mac);
  const master = a.get(IFLA_MASTER);
  if (master) link.masterIndex = master.readUInt32LE(0);
  const kind = text(info.get(IFLA_INFO_KIND));
  if (kind) link.kind = kind;
  return link;
}

export function parseAddress(m: Message): Address | null {
  const family = m.body[0];
  const a = parseAttrs(m.body, 8);
  const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  if (!raw || (family !== AF_INET && family !== AF_INET6)) return null;
  const words =
    family === AF_INET ? [0, 0, 0xffff, raw.readUInt32BE(0)] : [raw.readUInt32BE(0), raw.readUInt32BE(4), raw.readUInt32BE(8), raw.readUInt32BE(12)];
  return { ifindex: m.body.readUInt32LE(4), address: formatAddress(words), scope: m.body[3] };
}
