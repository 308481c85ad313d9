/**
 * ClientHello and ServerHello bodies (the handshake message after its 4-byte header), parsed in
 * place: RFC 8446 §4.1.2 and §4.1.3, RFC 5246 §7.4.1.2 and §7.4.1.3. Only SNI, ALPN and versions
 * are copied out; everything else is length-checked and skipped. Malformed input returns -1.
 */
import type { FlowMeta } from '../meta.js';

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

/** RFC 1035 §2.3.4 bounds a name at 255 octets; longer "host names" are not kept. */
const MAX_NAME = 255;
/** ALPN names kept per hello; browsers offer 2 or 3. */
const MAX_ALPN = 8;

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** RFC 8701 §2: GREASE versions and values are 0x?A?A with equal bytes; they carry no meaning. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

function printable(b: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) if (b[i] <= 0x20 || b[i] >= 0x7f) return false;
  return true;
}

function latin1(b: Uint8Array, o: number, n: number): string {
  return String.fromCharCode.apply(null, b.subarray(o, o + n) as unknown as number[]);
}

/** RFC 6066 §3: ServerNameList of (NameType, HostName); keeps the first host_name (type 0). */
function readSni(b: Uint8Array, o: number, n: number, meta: FlowMeta): boolean {
  if (n < 2 || u16(b, o) !== n - 2) return false;
  const end = o + n;
  let p = o + 2;
  while (p < end) {
    if (p + 3 > end) return false;
    const type = b[p];
    const len = u16(b, p + 1);
    p += 3;
    if (len === 0 || p + len > end) return false;
    if (type === 0 && meta.sni === undefined && len <= MAX_NAME && printable(b, p, len)) {
      meta.sni = latin1(b, p, len).toLowerCase();
    }
    p += len;
  }
  return true;
}

/** RFC 7301 §3.1: ProtocolNameList of non-empty ProtocolName<1..2^8-1>. */
function readAlpn(b: Uint8Array, o: number, n: number, meta: FlowMeta): boolean {
  if (n < 3 || u16(b, o) !== n - 2) return false;
  const end = o + n;
  let p = o + 2;
  let names: string[] | undefined;
  while (p < end) {
    const len = b[p++];
    if (len === 0 || p + len > end) return false;
    if (printable(b, p, len) && (names === undefined || names.length < MAX_ALPN)) {
      (names ??= []).push(latin1(b, p, len));
    }
    p += len;
  }
  if (names !== undefined) meta.alpn = names;
  return true;
}

/** RFC 8446 §4.2.1 (ClientHello form): versions<2..254>; returns the highest non-GREASE one. */
function maxSupportedVersion(b: Uint8Array, o: number, n: number): number {
  if (n < 3 || b[o] !== n - 1 || (n - 1) % 2 !== 0) return -1;
  let max = 0;
  for (let p = o + 1; p < o + n; p += 2) {
    const v = u16(b, p);
    if (!isGrease(v) && v > max) max = v;
  }
  return max;
}

/**
 * Skips legacy_session_id<0..32> at `p` (RFC 8446 §4.1.2); returns the offset after it, or -1.
 */
function skipSessionId(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const n = b[p];
  return n > 32 || p + 1 + n > end ? -1 : p + 1 + n;
}

/**
 * Walks the extensions block at `p`; an absent block is allowed (SSLv3/TLS 1.0 hellos may end after
 * the compression methods, RFC 5246 §7.4.1.2). Copies SNI and ALPN into `meta`; returns the version
 * from supported_versions, 0 without one, -1 when malformed.
 */
function walkExtensions(
  b: Uint8Array,
  p: number,
  end: number,
  meta: FlowMeta,
  client: boolean,
): number {
  if (p === end) return 0;
  if (p + 2 > end || u16(b, p) !== end - p - 2) return -1;
  p += 2;
  let version = 0;
  while (p < end) {
    if (p + 4 > end) return -1;
    const type = u16(b, p);
    const len = u16(b, p + 2);
    p += 4;
    if (p + len > end) return -1;
    if (type === EXT_SERVER_NAME && client) {
      if (!readSni(b, p, len, meta)) return -1;
    } else if (type === EXT_ALPN) {
      if (!readAlpn(b, p, len, meta)) return -1;
    } else if (type === EXT_SUPPORTED_VERSIONS) {
      if (client) version = maxSupportedVersion(b, p, len);
      // RFC 8446 §4.2.1: a ServerHello carries the single selected_version.
      else version = len === 2 ? u16(b, p) : -1;
      if (version < 0) return -1;
    }
    p += len;
  }
  return version;
}

/** RFC 5246 §6.2.1 / RFC 8446 §4.1.2: hello versions are SSL 3.0 (0x0300) up to TLS 1.3 (0x0304). */
function tlsVersion(v: number): boolean {
  return v >= 0x0300 && v <= 0x0304;
}

/**
 * Parses a ClientHello body at b[o..o+n). Fills meta.sni and meta.alpn; returns the highest version
 * the client offers (supported_versions, else legacy_version), or -1 when malformed.
 */
export function parseClientHello(b: Uint8Array, o: number, n: number, meta: FlowMeta): number {
  const end = o + n;
  // legacy_version(2) random(32)
  if (n < 34 + 1 + 2 + 2 + 1 + 1) return -1;
  const legacy = u16(b, o);
  if (!tlsVersion(legacy)) return -1;
  let p = skipSessionId(b, o + 34, end);
  if (p < 0 || p + 2 > end) return -1;
  // cipher_suites<2..2^16-2>: 2-byte suites, at least one.
  const cs = u16(b, p);
  if (cs < 2 || cs % 2 !== 0 || p + 2 + cs + 1 > end) return -1;
  p += 2 + cs;
  // legacy_compression_methods<1..2^8-1>
  const cm = b[p];
  if (cm < 1 || p + 1 + cm > end) return -1;
  p += 1 + cm;
  const v = walkExtensions(b, p, end, meta, true);
  if (v < 0) return -1;
  return v > 0 ? v : legacy;
}

/**
 * Parses a ServerHello body at b[o..o+n); returns the negotiated version (supported_versions, else
 * legacy_version) or -1 when malformed. A server's ALPN extension names the one protocol chosen.
 */
export function parseServerHello(b: Uint8Array, o: number, n: number, meta: FlowMeta): number {
  const end = o + n;
  if (n < 34 + 1 + 2 + 1) return -1;
  const legacy = u16(b, o);
  if (!tlsVersion(legacy)) return -1;
  let p = skipSessionId(b, o + 34, end);
  // cipher_suite(2) legacy_compression_method(1)
  if (p < 0 || p + 3 > end) return -1;
  p += 3;
  const v = walkExtensions(b, p, end, meta, false);
  if (v < 0) return -1;
  if (v > 0 && !tlsVersion(v)) return -1;
  return v > 0 ? v : legacy;
}
