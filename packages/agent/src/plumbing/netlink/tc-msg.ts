/**
 * rtnetlink tc messages (linux/rtnetlink.h, pkt_sched.h, pkt_cls.h, tc_act/tc_mirred.h) for the
 * mirror: the clsact qdisc, and per hook a u32 filter matching every packet (`match u32 0 0`)
 * whose one action is `mirred egress mirror`, byte for byte as `tc` sends them.
 */
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, attr, message, nest, parseAttrs, str, text, type Message } from './message.js';
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
const TCA_U32_SEL = 5;
const TCA_U32_ACT = 7;
const TCA_ACT_KIND = 1;
const TCA_ACT_OPTIONS = 2;
const NLA_F_NESTED = 0x8000;
const TCA_MIRRED_PARMS = 2;
const TC_ACT_PIPE = 3;
const TCA_EGRESS_MIRROR = 2;
const TC_U32_TERMINAL = 1;

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

/** `tc filter add dev … HOOK protocol all pref PREF u32 match u32 0 0 action mirred egress mirror dev TO`. */
export function addMirrorMsg(ifindex: number, hook: Hook, pref: number, toIfindex: number): Buffer {
  const mirred = Buffer.alloc(28);
  mirred.writeInt32LE(TC_ACT_PIPE, 8);
  mirred.writeInt32LE(TCA_EGRESS_MIRROR, 20);
  mirred.writeUInt32LE(toIfindex, 24);
  const action = nest(1, str(TCA_ACT_KIND, 'mirred'), nest(TCA_ACT_OPTIONS | NLA_F_NESTED, attr(TCA_MIRRED_PARMS, mirred)));
  // tc_u32_sel with one key (mask 0, value 0 at offset 0): flags, offshift, nkeys, then zeros.
  const sel = Buffer.alloc(32);
  sel[0] = TC_U32_TERMINAL;
  sel[2] = 1;
  return message(
    RTM_NEWTFILTER,
    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    tcmsg(ifindex, 0, PARENT[hook], ((pref << 16) | PROTO_ALL) >>> 0),
    str(TCA_KIND, 'u32'),
    nest(TCA_OPTIONS, nest(TCA_U32_ACT, action), attr(TCA_U32_SEL, sel)),
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
  const opts = a.get(TCA_OPTIONS) ? parseAttrs(a.get(TCA_OPTIONS)!) : new Map<number, Buffer>();
  const f: Filter = { pref: m.body.readUInt32LE(16) >>> 16, table: opts.has(TCA_U32_DIVISOR) || (handle & 0xfff) === 0, matchAll: false };
  if (text(a.get(TCA_KIND)) !== 'u32') return f;
  const sel = opts.get(TCA_U32_SEL);
  // One key (at byte 16: mask, value) of mask 0 and value 0.
  f.matchAll = !!sel && sel.length >= 32 && sel[2] === 1 && sel.readUInt32BE(16) === 0 && sel.readUInt32BE(20) === 0;
  const acts = opts.get(TCA_U32_ACT) ? [...parseAttrs(opts.get(TCA_U32_ACT)!).values()] : [];
  if (acts.length === 1) {
    const act = parseAttrs(acts[0]);
    const parms = act.get(TCA_ACT_OPTIONS) ? parseAttrs(act.get(TCA_ACT_OPTIONS)!).get(TCA_MIRRED_PARMS) : undefined;
    if (text(act.get(TCA_ACT_KIND)) === 'mirred' && parms && parms.length >= 28 && parms.readInt32LE(20) === TCA_EGRESS_MIRROR) {
      f.mirrorTo = parms.readUInt32LE(24);
    }
  }
  return f;
}
