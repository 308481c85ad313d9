/**
 * TLS (and SSL 3.0) over TCP. Each direction is followed as a stream of records (RFC 8446 §5.1,
 * RFC 5246 §6.2), headers reassembled across segments. The session is claimed when:
 *  - the client's first handshake message is a well-formed ClientHello (buffered up to 16 KiB, since
 *    post-quantum key shares push Chrome's past one segment), or the server's is a ServerHello;
 *  - an SSLv2-format CLIENT-HELLO fills the first payload exactly (RFC 6101 Appendix E.1);
 *  - mid-stream: both directions carry valid, contiguous record headers (at least 3 in all).
 * Following: the ServerHello gives the negotiated version; plaintext heartbeats are checked for
 * heartbleed (RFC 6520 §4). Protocols over UDP (QUIC, DTLS) never reach this parser.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { parseClientHello, parseServerHello } from './tls-hello.js';

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const CT_HEARTBEAT = 24;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;

const TLS_1_2 = 0x0303;
const TLS_1_3 = 0x0304;

/** RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
const MAX_RECORD = 16384 + 2048;
/** Largest hello we buffer; real ones are below 2 KiB, Chrome's with ML-KEM shares below 2.5 KiB. */
const MAX_HELLO = 16384;
/** RFC 6520 §4: padding_length MUST be at least 16. */
const HEARTBEAT_MIN_PADDING = 16;
/** Mid-stream claim: record headers needed in all, with at least one from each side. */
const MIDSTREAM_RECORDS = 3;

/** Hello collection per direction. */
const HELLO_PENDING = 0;
const HELLO_COLLECTING = 1;
const HELLO_DONE = 2;
/** The direction's first handshake message is not a hello (mid-stream, or encrypted). */
const HELLO_NONE = 3;
const HELLO_BAD = 4;

/** One direction's record stream. */
class Direction {
  /** Record header (5 bytes), then the first 3 bytes of a heartbeat body. */
  readonly hdr = new Uint8Array(8);
  hdrHave = 0;
  type = 0;
  recLen = 0;
  /** Body bytes of the current record still to come. */
  remain = 0;
  /** Body bytes of the current record already seen. */
  bodySeen = 0;
  records = 0;
  broken = false;
  /** After this side's ChangeCipherSpec (or a TLS 1.3 ServerHello) its records are ciphertext. */
  encrypted = false;
  hello = HELLO_PENDING;
  /** Handshake header of the hello: type(1) length(3). */
  readonly hsHdr = new Uint8Array(4);
  hsHave = 0;
  /** Body of a hello that spans records or segments; allocated only then, at its exact size. */
  buf: Uint8Array | null = null;
  bufHave = 0;
}

class TlsState {
  readonly c = new Direction();
  readonly s = new Direction();
}

function validHeader(h: Uint8Array): boolean {
  const type = h[0];
  const len = (h[3] << 8) | h[4];
  // RFC 5246 §6.2.1 / RFC 8446 §5.1: content types 20..24 (24 = heartbeat, RFC 6520 §3);
  // legacy_record_version 0x0300..0x0304.
  if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT) return false;
  if (h[1] !== 3 || h[2] > 4) return false;
  if (len > MAX_RECORD) return false;
  // RFC 5246 §6.2.1: no zero-length Handshake, Alert or ChangeCipherSpec fragments.
  if (len === 0) return type === CT_APPLICATION_DATA;
  // RFC 5246 §7.1: ChangeCipherSpec is the single byte 1 (never encrypted).
  if (type === CT_CHANGE_CIPHER_SPEC) return len === 1;
  // RFC 5246 §7.2: a plaintext alert is 2 bytes; encrypted ones are longer.
  if (type === CT_ALERT) return len >= 2;
  return true;
}

function finishHello(st: TlsState, t: Direction, flow: DpiFlow, client: boolean, b: Uint8Array, o: number, n: number): void {
  if (client) {
    const v = parseClientHello(b, o, n, flow.meta);
    if (v < 0) {
      flow.meta.sni = undefined;
      flow.meta.alpn = undefined;
      t.hello = HELLO_BAD;
      return;
    }
    // Threat catalogue: a client that offers at most TLS 1.1 (or SSL) cannot negotiate better.
    if (v < TLS_1_2) flow.threat(Threat.TLS_OLD_VERSION, `client offers at most ${versionName(v)}`);
  } else {
    const v = parseServerHello(b, o, n, flow.meta);
    if (v < 0) {
      t.hello = HELLO_BAD;
      return;
    }
    flow.meta.tlsVersion = v;
    if (v < TLS_1_2) flow.threat(Threat.TLS_OLD_VERSION, `negotiated ${versionName(v)}`);
    // RFC 8446 §2: with TLS 1.3 everything after the ServerHello is encrypted, both ways.
    if (v === TLS_1_3) {
      st.c.encrypted = true;
      st.s.encrypted = true;
    }
  }
  t.hello = HELLO_DONE;
}

function versionName(v: number): string {
  if (v === 0x0002) return 'SSL 2.0';
  if (v === 0x0300) return 'SSL 3.0';
  return `TLS 1.${(v & 0xff) - 1}`;
}

/** Feeds handshake record body bytes to the hello collector of one direction. */
function collectHello(st: TlsState, t: Direction, flow: DpiFlow, client: boolean, d: Uint8Array, p: number, n: number): void {
  const end = p + n;
  if (t.hsHave < 4) {
    while (t.hsHave < 4 && p < end) t.hsHdr[t.hsHave++] = d[p++];
    if (t.hsHave < 4) return;
    const type = t.hsHdr[0];
    const need = (t.hsHdr[1] << 16) | (t.hsHdr[2] << 8) | t.hsHdr[3];
    // The first handshake message of a connection is the hello of that side (RFC 8446 §2);
    // anything else means we joined mid-stream or see an encrypted Finished.
    if (type !== (client ? HS_CLIENT_HELLO : HS_SERVER_HELLO)) {
      t.hello = HELLO_NONE;
      return;
    }
    if (need > MAX_HELLO) {
      t.hello = HELLO_BAD;
      return;
    }
    t.hello = HELLO_COLLECTING;
    // Common case: the whole hello is in this segment; parse it in place without copying.
    if (end - p >= need) {
      finishHello(st, t, flow, client, d, p, need);
      return;
    }
    t.buf = new Uint8Array(need);
    t.bufHave = 0;
  }
  const buf = t.buf;
  if (buf === null) return;
  const take = Math.min(buf.length - t.bufHave, end - p);
  buf.set(d.subarray(p, p + take), t.bufHave);
  t.bufHave += take;
  if (t.bufHave === buf.length) {
    t.buf = null;
    finishHello(st, t, flow, client, buf, 0, buf.length);
  }
}

/** Record body bytes d[p..p+n) at body offset t.bodySeen of the current record. */
function onBody(st: TlsState, t: Direction, flow: DpiFlow, client: boolean, d: Uint8Array, p: number, n: number): void {
  if (t.type === CT_HANDSHAKE && (t.hello === HELLO_PENDING || t.hello === HELLO_COLLECTING) && !t.encrypted) {
    collectHello(st, t, flow, client, d, p, n);
  } else if (t.type === CT_HEARTBEAT && !t.encrypted && t.bodySeen < 3) {
    let i = t.bodySeen;
    for (let k = 0; i < 3 && k < n; k++) t.hdr[5 + i++] = d[p + k];
    if (i === 3) {
      // RFC 6520 §4: type(1) payload_length(2) payload padding(>=16) fills the record; a
      // payload_length beyond that asks the peer to echo memory it never received (CVE-2014-0160).
      const payloadLen = (t.hdr[6] << 8) | t.hdr[7];
      if (payloadLen + 3 + HEARTBEAT_MIN_PADDING > t.recLen) {
        flow.threat(Threat.TLS_HEARTBLEED, `heartbeat payload_length ${payloadLen} in a ${t.recLen}-byte record`);
      }
    }
  }
}

function feed(st: TlsState, flow: DpiFlow, d: Uint8Array, off: number, len: number, client: boolean): void {
  const t = client ? st.c : st.s;
  const end = off + len;
  let p = off;
  while (p < end && !t.broken) {
    if (t.hdrHave < 5) {
      while (t.hdrHave < 5 && p < end) t.hdr[t.hdrHave++] = d[p++];
      if (t.hdrHave < 5) return;
      if (!validHeader(t.hdr)) {
        t.broken = true;
        return;
      }
      t.type = t.hdr[0];
      t.recLen = (t.hdr[3] << 8) | t.hdr[4];
      t.remain = t.recLen;
      t.bodySeen = 0;
      t.records++;
      // RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types.
      if (t.hello === HELLO_COLLECTING && t.type !== CT_HANDSHAKE) t.hello = HELLO_BAD;
      // A warning alert may precede the hello: RFC 6066 §3 lets a server answer an unknown SNI
      // with unrecognized_name(112) and carry on.
      else if (t.hello === HELLO_PENDING && t.type !== CT_HANDSHAKE && t.type !== CT_ALERT) t.hello = HELLO_NONE;
      if (t.type === CT_CHANGE_CIPHER_SPEC) t.encrypted = true;
    }
    const n = Math.min(t.remain, end - p);
    if (n > 0) onBody(st, t, flow, client, d, p, n);
    p += n;
    t.remain -= n;
    t.bodySeen += n;
    if (t.remain === 0) t.hdrHave = 0;
  }
}

/**
 * SSLv2 CLIENT-HELLO with a 2-byte header (RFC 6101 Appendix E.1, the SSL 2.0 draft §2.5):
 * msg-length, CLIENT-HELLO(1), version, cipher-specs-length (multiple of 3), session-id-length
 * (0 or 16), challenge-length (16..32), then the data, filling the payload exactly. Returns the
 * offered version or -1.
 */
function sslv2ClientHello(d: Uint8Array, off: number, len: number): number {
  if (len < 11 || (d[off] & 0x80) === 0 || d[off + 2] !== 1) return -1;
  const msgLen = ((d[off] & 0x7f) << 8) | d[off + 1];
  const version = (d[off + 3] << 8) | d[off + 4];
  const cs = (d[off + 5] << 8) | d[off + 6];
  const sid = (d[off + 7] << 8) | d[off + 8];
  const ch = (d[off + 9] << 8) | d[off + 10];
  if (version !== 0x0002 && (version < 0x0300 || version > 0x0303)) return -1;
  if (cs === 0 || cs % 3 !== 0 || (sid !== 0 && sid !== 16) || ch < 16 || ch > 32) return -1;
  if (msgLen !== 9 + cs + sid + ch || len !== msgLen + 2) return -1;
  return version;
}

function verdict(st: TlsState): Verdict {
  const c = st.c;
  const s = st.s;
  if (c.hello === HELLO_DONE || s.hello === HELLO_DONE) return MATCH;
  if (c.broken || s.broken || c.hello === HELLO_BAD || s.hello === HELLO_BAD) return NO_MATCH;
  if (c.records > 0 && s.records > 0 && c.records + s.records >= MIDSTREAM_RECORDS) return MATCH;
  return CONTINUE;
}

const tls: DpiParser & { slot: number } = {
  app: App.TLS,
  name: 'tls',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    let st = flow.state[this.slot] as TlsState | undefined;
    if (st === undefined) {
      if (len === 0) return CONTINUE;
      if (fromClient && flow.clientPackets === 1 && (data[off] & 0x80) !== 0) {
        const v = sslv2ClientHello(data, off, len);
        if (v < 0) return NO_MATCH;
        flow.threat(Threat.TLS_OLD_VERSION, `SSLv2-format ClientHello offering ${versionName(v)}`);
        st = new TlsState();
        // The client's later bytes are not records until the server answers in kind.
        st.c.broken = true;
        flow.state[this.slot] = st;
        return MATCH;
      }
      // Cheap checks of the record header's first bytes (content type, major version 3, minor
      // 0..4) before allocating any state.
      const t = data[off];
      if (t < CT_CHANGE_CIPHER_SPEC || t > CT_HEARTBEAT) return NO_MATCH;
      if ((len > 1 && data[off + 1] !== 3) || (len > 2 && data[off + 2] > 4)) return NO_MATCH;
      st = new TlsState();
      flow.state[this.slot] = st;
    }
    feed(st, flow, data, off, len, fromClient);
    return verdict(st);
  },

  follow(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    const st = flow.state[this.slot] as TlsState | undefined;
    if (st === undefined) return false;
    feed(st, flow, data, off, len, fromClient);
    const c = st.c;
    const s = st.s;
    // Nothing left to learn once both sides are encrypted (heartbeats are then unreadable) or lost.
    return !((c.broken || c.encrypted) && (s.broken || s.encrypted));
  },
};

export default tls;
