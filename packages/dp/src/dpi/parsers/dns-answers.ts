/**
 * Collecting A/AAAA answers of a DNS response into FlowMeta.dnsAnswers. An address reached through
 * a simple CNAME chain that starts at the question (RFC 1034 §3.6.2, §4.3.2 step 3a) is reported
 * under the queried name, which is what an FQDN rule names.
 */
import type { FlowMeta } from '../meta.js';
import { NAME_LOOP, NAME_OK, NameScan, nameText, sameName, textEquals, walkName } from './dns-wire.js';
import { QTYPE_A, QTYPE_AAAA, QTYPE_CNAME, RrScan, readRecord } from './dns-message.js';

/** Answers kept per session; later ones only refresh the TTL of one already kept. */
export const MAX_ANSWERS = 64;
/** Names of a CNAME chain that are followed; longer chains are unusual and reported by owner. */
const MAX_CHAIN = 8;

/** Scratch shared by all sessions: the answers of one message are handled before the next. */
const chain = new Int32Array(MAX_CHAIN);
const addrText = new Uint8Array(39);
let addrLen = 0;
const rr = new RrScan();

/**
 * Walk the answer section (RFC 1035 §4.1.3) of the message b[msg .. end), whose first question
 * is named `qName` (offset) / `qText` (kept text) and whose answers start at `p`.
 * Returns the offset of a loop pointer met on the way (≥ 0) or -1.
 */
export function collectAnswers(
  meta: FlowMeta,
  b: Uint8Array,
  msg: number,
  end: number,
  p: number,
  count: number,
  qName: number,
  qText: string,
  s: NameScan,
): number {
  let links = 1;
  chain[0] = qName;
  for (let i = 0; i < count; i++) {
    const next = readRecord(b, msg, end, p, rr, s);
    if (next < 0) return rr.nameResult === NAME_LOOP ? s.loopAt : -1;
    p = next;
    if (rr.type === QTYPE_CNAME) {
      // RDATA is the canonical name; a CNAME owned by a chain name extends the chain.
      const r = walkName(b, msg, end, rr.rdata, s, false);
      if (r === NAME_LOOP) return s.loopAt;
      if (r === NAME_OK && links < MAX_CHAIN && inChain(b, msg, end, links, rr.name)) chain[links++] = rr.rdata;
      continue;
    }
    const v4 = rr.type === QTYPE_A && rr.rdlen === 4;
    const v6 = rr.type === QTYPE_AAAA && rr.rdlen === 16;
    if (!v4 && !v6) continue;
    if (v4) writeIpv4(b, rr.rdata);
    else writeIpv6(b, rr.rdata);
    if (inChain(b, msg, end, links, rr.name)) {
      keep(meta, qText, null, rr.ttl);
    } else {
      walkName(b, msg, end, rr.name, s, true);
      keep(meta, null, s, rr.ttl);
    }
  }
  return -1;
}

function inChain(b: Uint8Array, msg: number, end: number, links: number, name: number): boolean {
  for (let i = 0; i < links; i++) if (sameName(b, msg, end, chain[i], name)) return true;
  return false;
}

/** Keep (name, address, ttl) unless the pair is already kept; then only its TTL changes. */
function keep(meta: FlowMeta, name: string | null, s: NameScan | null, ttl: number): void {
  const list = (meta.dnsAnswers ??= []);
  for (const a of list) {
    const sameOwner = name !== null ? a.name === name : textEquals(s as NameScan, a.name);
    if (sameOwner && addrEquals(a.addr)) {
      a.ttl = ttl;
      return;
    }
  }
  if (list.length >= MAX_ANSWERS) return;
  list.push({ name: name ?? nameText(s as NameScan), addr: addrString(), ttl });
}

function addrEquals(kept: string): boolean {
  if (kept.length !== addrLen) return false;
  for (let i = 0; i < addrLen; i++) if (kept.charCodeAt(i) !== addrText[i]) return false;
  return true;
}

function addrString(): string {
  return String.fromCharCode.apply(null, addrText.subarray(0, addrLen) as unknown as number[]);
}

function writeDecimal(v: number): void {
  if (v >= 100) addrText[addrLen++] = 0x30 + ((v / 100) | 0);
  if (v >= 10) addrText[addrLen++] = 0x30 + (((v / 10) | 0) % 10);
  addrText[addrLen++] = 0x30 + (v % 10);
}

function writeIpv4(b: Uint8Array, p: number): void {
  addrLen = 0;
  for (let i = 0; i < 4; i++) {
    if (i > 0) addrText[addrLen++] = 0x2e;
    writeDecimal(b[p + i]);
  }
}

const HEX = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];

/** RFC 5952 §4: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function writeIpv6(b: Uint8Array, p: number): void {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (b[p + 2 * i] !== 0 || b[p + 2 * i + 1] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && b[p + 2 * j] === 0 && b[p + 2 * j + 1] === 0) j++;
    // §4.2.3: the first of equally long runs is shortened.
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  addrLen = 0;
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      addrText[addrLen++] = 0x3a;
      addrText[addrLen++] = 0x3a;
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestAt + bestLen) addrText[addrLen++] = 0x3a;
    writeHexGroup((b[p + 2 * i] << 8) | b[p + 2 * i + 1]);
  }
}

function writeHexGroup(v: number): void {
  let started = false;
  for (let shift = 12; shift >= 0; shift -= 4) {
    const d = (v >> shift) & 0xf;
    if (d === 0 && !started && shift > 0) continue;
    started = true;
    addrText[addrLen++] = HEX[d];
  }
}
