/**
 * Allocation-free byte readers shared by the binary protocol parsers. Parsers read straight from
 * the payload view; building a DataView per packet would allocate, so fixed-width fields are
 * assembled with shifts. Callers check bounds once per header before reading its fields.
 */

export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function u24le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
}

export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Signed 32-bit little-endian (MongoDB lengths and ids). */
export function i32le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

/** Signed 16-bit big-endian (Kafka and Cassandra nullable string lengths). */
export function i16be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >> 16) | b[o + 1];
}

/** True when every byte of b[o .. o+n) is printable ASCII (0x20..0x7e). */
export function isPrintable(b: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) {
    const c = b[i];
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** True when b[o ..) starts with the bytes of the ASCII literal `lit`. */
export function startsWith(b: Uint8Array, o: number, end: number, lit: string): boolean {
  if (end - o < lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    if (b[o + i] !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/** ASCII case-insensitive comparison of b[o .. o+lit.length) with an upper-case literal. */
export function equalsUpper(b: Uint8Array, o: number, n: number, lit: string): boolean {
  if (n !== lit.length) return false;
  for (let i = 0; i < n; i++) {
    let c = b[o + i];
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/** Index of the first `byte` in b[o .. end), or -1. */
export function indexOf(b: Uint8Array, o: number, end: number, byte: number): number {
  for (let i = o; i < end; i++) if (b[i] === byte) return i;
  return -1;
}

/** Copies b[o .. o+n) out as a Latin-1 string; only for values the flow keeps. */
export function latin1(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = o; i < o + n; i++) s += String.fromCharCode(b[i]);
  return s;
}
