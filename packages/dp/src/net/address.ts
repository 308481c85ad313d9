/**
 * Addresses as four big-endian 32-bit words, IPv4 mapped into ::ffff:0:0/96, with parsing,
 * formatting and CIDR prefixes. Used off the per-packet path (reports, policy compile, CLI).
 */
import { isIPv4, isIPv6 } from 'node:net';

export function isV4Mapped(w: ArrayLike<number>): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

export function formatAddress(w: ArrayLike<number>): string {
  if (isV4Mapped(w)) {
    const v = w[3];
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) groups.push(w[i] >>> 16, w[i] & 0xffff);
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** `ip:port`, IPv6 as `[addr]:port`. */
export function formatEndpoint(w: ArrayLike<number>, port: number): string {
  return isV4Mapped(w) ? `${formatAddress(w)}:${port}` : `[${formatAddress(w)}]:${port}`;
}

/** Parses an IPv4 or IPv6 address into words; null when it is not one. */
export function parseAddress(text: string): Uint32Array | null {
  const out = new Uint32Array(4);
  if (isIPv4(text)) {
    const p = text.split('.').map(Number);
    out[2] = 0xffff;
    out[3] = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
    return out;
  }
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!isIPv6(bare)) return null;
  let s = bare;
  // Trailing dotted quad (::ffff:1.2.3.4).
  const dot = s.lastIndexOf(':');
  const tail = s.slice(dot + 1);
  if (isIPv4(tail)) {
    const p = tail.split('.').map(Number);
    s = `${s.slice(0, dot + 1)}${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill('0'), ...r];
  for (let i = 0; i < 4; i++) out[i] = ((parseInt(groups[2 * i], 16) << 16) | parseInt(groups[2 * i + 1], 16)) >>> 0;
  return out;
}

export interface Cidr {
  words: Uint32Array;
  /** Prefix length over the 128-bit mapped form (IPv4 /24 becomes /120). */
  bits: number;
}

/** Parses `addr` or `addr/len`; null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const words = parseAddress(addrText);
  if (!words) return null;
  const v4 = isIPv4(addrText);
  const max = v4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return null;
    len = Number(lenText);
    if (len > max) return null;
  }
  const bits = v4 ? 96 + len : len;
  maskWords(words, bits);
  return { words, bits };
}

function maskWords(w: Uint32Array, bits: number): void {
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(32, bits - i * 32));
    w[i] = keep === 0 ? 0 : keep === 32 ? w[i] : (w[i] & (~0 << (32 - keep))) >>> 0;
  }
}

export function cidrContains(c: Cidr, w: ArrayLike<number>): boolean {
  for (let i = 0; i < 4; i++) {
    const keep = c.bits - i * 32;
    if (keep <= 0) return true;
    const m = keep >= 32 ? 0xffffffff : (~0 << (32 - keep)) >>> 0;
    if (((w[i] & m) >>> 0) !== c.words[i]) return false;
  }
  return true;
}

/** Compact string key of an address, for maps. */
export function addressKey(w: ArrayLike<number>): string {
  return `${w[0]},${w[1]},${w[2]},${w[3]}`;
}
