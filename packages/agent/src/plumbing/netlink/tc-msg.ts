/**
 * rtnetlink tc messages (linux/rtnetlink.h, pkt_sched.h, pkt_cls.h) for the mirror: the clsact
 * qdisc, and per hook a cls_bpf filter in direct-action mode running a loaded program, byte for
 * byte as `tc filter add … bpf object-pinned FILE da` sends them.
 */
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, message, nest, parseAttrs, str, text, u32, type Message } from './message.js';
import type { Filter, Hook } from './rtnl.js';

const RTM_NEWQDISC = 36;
const RTM_DELQDISC = 37;
const RTM_GETQDISC = 38;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const RTM_GETTFILTER = 46;

const TC_H_CLSACT = 0xfffffff1;
const CLSACT_HANDLE = 0xffff0000;
const PARENT: Record<Hook, number> = { ingress: 0xfffffff2, egress: 0xfffffff3 };
/** htons(ETH_P_ALL): `protocol all`. */
const PROTO_ALL = 0x0300;

const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_U32_DIVISOR = 4;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt32LE(handle >>> 0, 8);
  b.writeUInt32LE(parent >>> 0, 12);
  b.writeUInt32LE(info >>> 0, 16);
  return b;
}

export function addClsactMsg(ifindex: number): Buffer {
  return message(RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0), str(TCA_KIND, 'clsact'));
}

export function delClsactMsg(ifindex: number): Buffer {
  return message(RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK, tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0), str(TCA_KIND, 'clsact'));
}

export function dumpQdiscsMsg(): Buffer {
  return message(RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP, tcmsg(0, 0, 0, 0));
}

/** `tc filter add dev … HOOK protocol all pref PREF bpf object-pinned … da`, with the program's descriptor and a name of ours. */
export function addBpfMsg(ifindex: number, hook: Hook, pref: number, prog: { fd: number; name: string }): Buffer {
  return message(
    RTM_NEWTFILTER,
    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    tcmsg(ifindex, 0, PARENT[hook], ((pref << 16) | PROTO_ALL) >>> 0),
    str(TCA_KIND, 'bpf'),
    nest(TCA_OPTIONS, u32(TCA_BPF_FD, prog.fd), str(TCA_BPF_NAME, prog.name), u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT)),
  );
}

/** `tc filter del dev … HOOK pref PREF`: every filter at that preference. */
export function delFiltersMsg(ifindex: number, hook: Hook, pref: number): Buffer {
  return message(RTM_DELTFILTER, NLM_F_REQUEST | NLM_F_ACK, tcmsg(ifindex, 0, PARENT[hook], (pref << 16) >>> 0));
}

export function dumpFiltersMsg(ifindex: number, hook: Hook): Buffer {
  return message(RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, tcmsg(ifindex, 0, PARENT[hook], 0));
}

/** Whether a qdisc dump entry is the clsact of `ifindex`. */
export function isClsact(m: Message, ifindex: number): boolean {
  return m.body.readInt32LE(4) === ifindex && text(parseAttrs(m.body, 20).get(TCA_KIND)) === 'clsact';
}

export function parseFilter(m: Message): Filter {
  const handle = m.body.readUInt32LE(8);
  const a = parseAttrs(m.body, 20);
  const kind = text(a.get(TCA_KIND));
  const opts = a.get(TCA_OPTIONS) ? parseAttrs(a.get(TCA_OPTIONS)!) : new Map<number, Buffer>();
  // The dump lists each preference once without a handle; u32 also lists its hash tables.
  const table = handle === 0 || (kind === 'u32' && (opts.has(TCA_U32_DIVISOR) || (handle & 0xfff) === 0));
  const f: Filter = { pref: m.body.readUInt32LE(16) >>> 16, table };
  if (kind !== undefined) f.kind = kind;
  const name = kind === 'bpf' ? text(opts.get(TCA_BPF_NAME)) : undefined;
  if (name !== undefined) f.name = name;
  return f;
}
