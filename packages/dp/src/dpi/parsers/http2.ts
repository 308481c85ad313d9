/**
 * HTTP/2 over cleartext TCP (h2c, prior knowledge), and gRPC and etcd on top of it.
 *
 * Claimed by the client connection preface (RFC 9113 §3.4), or, when the client's first bytes
 * were missed, by the server preface: a SETTINGS frame that "MUST be the first frame the server
 * sends" (§3.4), checked field by field. Frames are then followed per direction (§4.1) and the
 * HEADERS blocks read with a bounded HPACK reader: `content-type: application/grpc[+...|;...]`
 * makes the session gRPC (gRPC over HTTP/2 spec, "Content-Type"), and gRPC whose :path names an
 * etcd v3 service (`/etcdserverpb.`, `/v3electionpb.`, `/v3lockpb.`) makes it etcd.
 * HTTP/2 inside TLS is TLS (ALPN h2), handled there.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import {
  H_AUTHORITY, H_CONTENT_TYPE, H_METHOD, H_PATH, H_SERVER, H_STATUS, H_USER_AGENT, HpackReader,
} from './hpack.js';

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** RFC 9113 §3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
const PREFACE = bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const GRPC = bytes('application/grpc');
const ETCD_SERVICES = ['/etcdserverpb.', '/v3electionpb.', '/v3lockpb.'].map(bytes);

const FRAME_HEADER = 9;
const T_HEADERS = 1;
const T_SETTINGS = 4;
const FLAG_ACK = 0x1;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** §4.2: SETTINGS_MAX_FRAME_SIZE tops out at 2^24-1; frames above the 16 KiB default are rare. */
const MAX_FRAME = (1 << 24) - 1;
/** Longest server SETTINGS accepted as a preface: every defined setting once, a few repeated. */
const MAX_SETTINGS_LEN = 6 * 16;

const PATH_MAX = 256;
const NAME_MAX = 255;
const FOLLOW_PACKETS = 64;

class Direction {
  /** Frame header bytes gathered so far (a header can straddle segments). */
  readonly hdr = new Uint8Array(FRAME_HEADER);
  hdrHave = 0;
  /** Payload bytes of the current frame still to pass. */
  remain = 0;
  broken = false;
}

class H2State {
  readonly c = new Direction();
  readonly s = new Direction();
  /** Client preface bytes matched so far (it may be split). */
  preface = 0;
  followed = 0;
}

const hpack = new HpackReader();

function latin1(b: Uint8Array, n: number): string {
  return String.fromCharCode.apply(null, b.subarray(0, n) as unknown as number[]);
}

function startsWith(b: Uint8Array, n: number, w: Uint8Array): boolean {
  if (n < w.length) return false;
  for (let i = 0; i < w.length; i++) if (b[i] !== w[i]) return false;
  return true;
}

/**
 * RFC 9113 §3.4 server preface: SETTINGS (type 4) on stream 0 without ACK, length a multiple of 6
 * (§6.5), each setting a defined identifier (§6.5.2, RFC 8441 §3, RFC 9218 §2.1) with a legal value.
 */
function serverSettings(d: Uint8Array, off: number, len: number): boolean {
  if (len < FRAME_HEADER) return false;
  const flen = (d[off] << 16) | (d[off + 1] << 8) | d[off + 2];
  if (d[off + 3] !== T_SETTINGS || (d[off + 4] & FLAG_ACK) !== 0) return false;
  if (d[off + 5] !== 0 || d[off + 6] !== 0 || d[off + 7] !== 0 || d[off + 8] !== 0) return false;
  if (flen % 6 !== 0 || flen > MAX_SETTINGS_LEN || FRAME_HEADER + flen > len) return false;
  for (let p = off + FRAME_HEADER; p < off + FRAME_HEADER + flen; p += 6) {
    const id = (d[p] << 8) | d[p + 1];
    const v = ((d[p + 2] << 24) | (d[p + 3] << 16) | (d[p + 4] << 8) | d[p + 5]) >>> 0;
    switch (id) {
      case 1: // HEADER_TABLE_SIZE
      case 3: // MAX_CONCURRENT_STREAMS
      case 6: // MAX_HEADER_LIST_SIZE
        break;
      case 2: // ENABLE_PUSH: 0 or 1
      case 8: // ENABLE_CONNECT_PROTOCOL: 0 or 1
      case 9: // NO_RFC7540_PRIORITIES: 0 or 1
        if (v > 1) return false;
        break;
      case 4: // INITIAL_WINDOW_SIZE <= 2^31-1
        if (v > 0x7fffffff) return false;
        break;
      case 5: // MAX_FRAME_SIZE in [2^14, 2^24-1]
        if (v < 16384 || v > MAX_FRAME) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Reads one HEADERS frame payload p[o..o+n) with its flags; updates meta and the app. */
function headers(flow: DpiFlow, d: Uint8Array, o: number, n: number, flags: number): void {
  let p = o;
  let end = o + n;
  // §6.2: Pad Length (1) if PADDED, Stream Dependency (4) + Weight (1) if PRIORITY.
  if (flags & FLAG_PADDED) {
    if (n < 1) return;
    end -= d[p++];
  }
  if (flags & FLAG_PRIORITY) p += 5;
  if (p > end) return;
  const meta = flow.meta;
  let grpc = false;
  let etcd = false;
  hpack.reset(d, p, end - p);
  while (hpack.next()) {
    const v = hpack.value;
    const vl = hpack.valueLen;
    switch (hpack.name) {
      case H_CONTENT_TYPE:
        // "application/grpc" alone or followed by "+format" or ";params".
        grpc = startsWith(v, vl, GRPC) && (vl === GRPC.length || v[GRPC.length] === 0x2b || v[GRPC.length] === 0x3b);
        break;
      case H_PATH:
        for (let i = 0; i < ETCD_SERVICES.length; i++) if (startsWith(v, vl, ETCD_SERVICES[i])) etcd = true;
        if (meta.path === undefined && vl > 0) meta.path = latin1(v, vl < PATH_MAX ? vl : PATH_MAX);
        break;
      case H_METHOD:
        if (meta.method === undefined && vl > 0 && vl <= 16) meta.method = latin1(v, vl);
        break;
      case H_AUTHORITY:
        if (meta.host === undefined && vl > 0 && vl <= NAME_MAX && !hpack.valueTruncated) meta.host = latin1(v, vl).toLowerCase();
        break;
      case H_USER_AGENT:
        if (meta.userAgent === undefined && vl > 0) meta.userAgent = latin1(v, vl < NAME_MAX ? vl : NAME_MAX);
        break;
      case H_SERVER:
        if (meta.serverSoftware === undefined && vl > 0) meta.serverSoftware = latin1(v, vl < NAME_MAX ? vl : NAME_MAX);
        break;
      case H_STATUS:
        if (meta.status === undefined && vl === 3) meta.status = (v[0] - 0x30) * 100 + (v[1] - 0x30) * 10 + (v[2] - 0x30);
        break;
    }
  }
  if (grpc && meta.app !== App.etcd) meta.app = etcd ? App.etcd : App.gRPC;
}

/** Walks frames of one direction (§4.1: Length(24) Type(8) Flags(8) R(1) Stream Identifier(31)). */
function feed(t: Direction, flow: DpiFlow, d: Uint8Array, off: number, len: number): void {
  const end = off + len;
  let p = off;
  while (p < end && !t.broken) {
    if (t.remain === 0 && t.hdrHave < FRAME_HEADER) {
      // A frame header in one piece is read in place; a split one is gathered first.
      if (t.hdrHave === 0 && end - p >= FRAME_HEADER) {
        for (let i = 0; i < FRAME_HEADER; i++) t.hdr[i] = d[p + i];
        t.hdrHave = FRAME_HEADER;
        p += FRAME_HEADER;
      } else {
        while (t.hdrHave < FRAME_HEADER && p < end) t.hdr[t.hdrHave++] = d[p++];
        if (t.hdrHave < FRAME_HEADER) return;
      }
      const h = t.hdr;
      const flen = (h[0] << 16) | (h[1] << 8) | h[2];
      const type = h[3];
      // §4.1: a frame larger than SETTINGS_MAX_FRAME_SIZE allows is impossible; §6.5: SETTINGS
      // lengths are multiples of 6. Either means this is not (or no longer) an HTTP/2 stream.
      if (flen > MAX_FRAME || (type === T_SETTINGS && flen % 6 !== 0)) {
        t.broken = true;
        return;
      }
      t.remain = flen;
      // Header blocks are read only when the whole frame is in this segment; a split one, and
      // CONTINUATION fragments, are passed over (the next HEADERS frame will do).
      if (type === T_HEADERS && end - p >= flen) {
        headers(flow, d, p, flen, h[4]);
      }
      if (flen === 0) {
        t.hdrHave = 0;
        continue;
      }
    }
    const n = Math.min(t.remain, end - p);
    p += n;
    t.remain -= n;
    if (t.remain === 0) t.hdrHave = 0;
  }
}

const http2: DpiParser & { slot: number } = {
  app: App.HTTP2,
  name: 'http2',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    let st = flow.state[this.slot] as H2State | undefined;
    if (fromClient) {
      const have = st === undefined ? 0 : st.preface;
      if (flow.clientPackets > 1 && have === 0) return NO_MATCH;
      const n = Math.min(PREFACE.length - have, len);
      for (let i = 0; i < n; i++) if (data[off + i] !== PREFACE[have + i]) return NO_MATCH;
      if (st === undefined) {
        st = new H2State();
        flow.state[this.slot] = st;
      }
      st.preface = have + n;
      if (st.preface < PREFACE.length) return CONTINUE;
      feed(st.c, flow, data, off + n, len - n);
      return MATCH;
    }
    // The server's first frame is its SETTINGS (§3.4); it can claim the session when the client's
    // preface was missed, or arrive while a split preface is still being matched.
    const waiting = st !== undefined && st.preface > 0;
    if (flow.serverPackets > 1 || !serverSettings(data, off, len)) return waiting ? CONTINUE : NO_MATCH;
    st ??= new H2State();
    flow.state[this.slot] = st;
    feed(st.s, flow, data, off, len);
    return MATCH;
  },

  follow(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): boolean {
    const st = flow.state[this.slot] as H2State | undefined;
    if (st === undefined) return false;
    feed(fromClient ? st.c : st.s, flow, data, off, len);
    return ++st.followed < FOLLOW_PACKETS && !(st.c.broken && st.s.broken);
  },
};

export default http2;
