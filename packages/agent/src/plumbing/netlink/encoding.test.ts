// The requests built here against the bytes `ip` and `tc` (iproute2 6.1) send for the same
// command, captured with strace (sequence numbers zeroed). Where iproute2 names the device by
// ifindex and the agent by IFLA_IFNAME, the attributes after the name are compared.
import { describe, expect, it } from 'vitest';
import { addVethMsg, parseLink, setLinkMsgs } from './link-msg.js';
import { parseAttrs, parseMessages } from './message.js';
import { addBpfMsg, addClsactMsg, delClsactMsg, delFiltersMsg, parseFilter } from './tc-msg.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** `ip link add nv-ex-eth0 type veth peer name nv-in-t5 netns X` with X's fd 4. */
const IP_VETH =
  '6c000000100005060000000000000000000000000000000000000000000000000f0003006e762d65782d6574683000003c0012000800010076657468300002002c0001000000000000000000000000000000000008001c00040000000d0003006e762d696e2d743500000000';
/** `ip link set dev nv-in-t5 master nv-br address 4e:65:75:56:00:05 addrgenmode none` (nv-br ifindex 2). */
const IP_SET =
  '440000001000050000000000000000000000000003000000000000000000000008000a00020000000a0001004e6575560005000010001a000c000a000500080001000000';
/** `ip link set dev nv-in-t5 nomaster address 4e:65:75:56:00:05 addrgenmode none` (strace of ip). */
const IP_SET_NOMASTER =
  '440000001000050000000000000000000000000003000000000000000000000008000a00000000000a0001004e6575560005000010001a000c000a000500080001000000';
/** `ip link set dev nv-in-t5 up`. */
const IP_UP = '2000000010000500000000000000000000000000030000000100000001000000';
/** `tc qdisc add dev eth0 clsact` (eth0 ifindex 3). */
const TC_CLSACT = '3000000024000506000000000000000000000000030000000000fffff1ffffff000000000b000100636c736163740000';
const TC_CLSACT_DEL = '3000000025000500000000000000000000000000030000000000fffff1ffffff000000000b000100636c736163740000';
/**
 * `tc filter add dev eth0 ingress protocol all pref 7 bpf object-pinned FILE da`: the program's
 * descriptor (4 in tc), and tc's name for a pinned object, `prog:[*fsobj]`.
 */
const TC_BPF =
  '540000002c0005060000000000000000000000000300000000000000f2ffffff0003070008000100627066002800020008000600040000001200070070726f673a5b2a66736f626a5d0000000800080001000000';
/** `tc filter del dev eth0 ingress pref 7`. */
const TC_FILTER_DEL = '240000002d0005000000000000000000000000000300000000000000f2ffffff00000700';

/** What earlier versions added: `… pref 7 u32 match u32 0 0 action mirred egress mirror dev nv-ex-eth0`. */
const TC_U32_MIRROR = hex(
  '8c0000002c0005060000000000000000000000000300000000000000f2ffffff0003070008000100753332006000020038000700340001000b0001006d69727265640000240002802000020000000000000000000300000000000000000000000200000002000000240005000100010000000000000000000000000000000000000000000000000000000000',
);

const HEADERS = 16 + 16;

/** The message's attributes after IFLA_IFNAME (the agent's first attribute). */
function afterName(msg: Buffer): Buffer {
  const nameLen = (msg.readUInt16LE(HEADERS) + 3) & ~3;
  return msg.subarray(HEADERS + nameLen);
}

describe('rtnetlink requests are those iproute2 sends', () => {
  it('veth pair with the peer in another namespace', () => {
    expect(addVethMsg('nv-ex-eth0', 'nv-in-t5', 4).toString('hex')).toBe(IP_VETH);
  });

  it('link set: nomaster, MAC, addrgenmode none; then up', () => {
    const [first, second] = setLinkMsgs('nv-in-t5', { noMaster: true, address: '4e:65:75:56:00:05', addrgenNone: true, up: true });
    const ip = hex(IP_SET_NOMASTER);
    expect(first.subarray(4, 8)).toEqual(ip.subarray(4, 8));
    expect(parseAttrs(first, HEADERS).get(3)?.toString()).toBe('nv-in-t5\0');
    expect(afterName(first)).toEqual(ip.subarray(HEADERS));
    // The flags word of `ip link set up`: IFF_UP set and changed; nothing else.
    expect(second.subarray(24, 32)).toEqual(hex(IP_UP).subarray(24, 32));
    expect(afterName(second).length).toBe(0);
  });

  it('only what is asked: up alone, nothing at all', () => {
    const [up] = setLinkMsgs('nv-ex-eth0', { up: true });
    expect(up.subarray(24, 32)).toEqual(hex(IP_UP).subarray(24, 32));
    expect(afterName(up).length).toBe(0);
    expect(setLinkMsgs('nv-ex-eth0', {})).toEqual([]);
  });

  it('clsact, the direct-action bpf filter and their deletes', () => {
    expect(addClsactMsg(3).toString('hex')).toBe(TC_CLSACT);
    expect(delClsactMsg(3).toString('hex')).toBe(TC_CLSACT_DEL);
    expect(addBpfMsg(3, 'ingress', 7, { fd: 4, name: 'prog:[*fsobj]' }).toString('hex')).toBe(TC_BPF);
    expect(delFiltersMsg(3, 'ingress', 7).toString('hex')).toBe(TC_FILTER_DEL);
  });

  it('a filter in a dump reads with its kind and name; the per-preference entry is no filter', () => {
    // The kernel lists a filter with the attributes it was made with (plus handle, tag, id).
    const [m] = parseMessages(addBpfMsg(3, 'egress', 8, { fd: 9, name: 'mseg_mirror v1 map 4 to 2 port 7' }));
    m.body.writeUInt32LE(1, 8);
    expect(parseFilter(m)).toEqual({ pref: 8, table: false, kind: 'bpf', name: 'mseg_mirror v1 map 4 to 2 port 7' });
    m.body.writeUInt32LE(0, 8);
    expect(parseFilter(m)).toMatchObject({ pref: 8, table: true, kind: 'bpf' });
    // A u32 filter of an earlier version: its node handle is a filter, its hash table (800:) is not.
    const u32 = parseMessages(TC_U32_MIRROR);
    u32[0].body.writeUInt32LE(0x80000800, 8);
    expect(parseFilter(u32[0])).toEqual({ pref: 7, table: false, kind: 'u32' });
    u32[0].body.writeUInt32LE(0x80000000, 8);
    expect(parseFilter(u32[0]).table).toBe(true);
  });

  it('a link in a reply: name, index, MAC, master and flags', () => {
    const [m] = parseMessages(hex(IP_SET));
    expect(parseLink(m)).toEqual({ ifname: '', ifindex: 3, type: 0, address: '4e:65:75:56:00:05', masterIndex: 2, up: false, addrgenNone: true });
  });
});
