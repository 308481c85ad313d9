/**
 * WebSocket seen mid-stream, without its HTTP handshake (a handshake that is seen makes the HTTP
 * parser refine the session instead). Frames (RFC 6455 §5.2) carry too little structure for one
 * packet to be proof, so the session is claimed only when a payload from each side consists of
 * whole, well-formed frames, and one side masks every frame while the other masks none: "a client
 * MUST mask all frames that it sends to the server" and "a server MUST NOT mask any frames"
 * (§5.1). Text frames must be valid UTF-8 (§5.6, §8.1).
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';

const OP_CONTINUATION = 0;
const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PONG = 10;
/** Frames examined per payload; a payload with more is not used as evidence. */
const MAX_FRAMES = 64;

/** Per-session state, a small bit set kept as a number: which sides passed, and how they mask. */
const CLIENT_OK = 1;
const CLIENT_MASKED = 2;
const SERVER_OK = 4;
const SERVER_MASKED = 8;

const BAD = -1;

/**
 * Checks that d[off..off+len) is a sequence of whole frames, all masked or all unmasked.
 * Returns 1 (masked) or 0 (unmasked), or BAD.
 */
function frames(d: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let p = off;
  let masked = -1;
  let count = 0;
  while (p < end) {
    if (++count > MAX_FRAMES || end - p < 2) return BAD;
    const b0 = d[p];
    const b1 = d[p + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const op = b0 & 0x0f;
    const m = b1 >> 7;
    // §5.2: RSV2/RSV3 need a negotiated extension (none is in use); RSV1 is permessage-deflate's
    // (RFC 7692 §6), on the first frame of a data message only. Opcodes 3-7 and 11-15 are reserved.
    if ((b0 & 0x30) !== 0) return BAD;
    if (op > OP_BINARY && (op < OP_CLOSE || op > OP_PONG)) return BAD;
    if (rsv1 && op !== OP_TEXT && op !== OP_BINARY) return BAD;
    // The first frame seen must start something; a lone continuation proves nothing.
    if (count === 1 && op === OP_CONTINUATION) return BAD;
    if (masked === -1) masked = m;
    else if (masked !== m) return BAD;
    let n = b1 & 0x7f;
    p += 2;
    if (n === 126) {
      if (end - p < 2) return BAD;
      n = (d[p] << 8) | d[p + 1];
      // §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (n < 126) return BAD;
      p += 2;
    } else if (n === 127) {
      if (end - p < 8) return BAD;
      // A 64-bit length needs >= 65536 and a clear top bit; anything past 2^32 cannot fit a payload.
      if (d[p] !== 0 || d[p + 1] !== 0 || d[p + 2] !== 0 || d[p + 3] !== 0) return BAD;
      n = ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
      if (n < 65536) return BAD;
      p += 8;
    }
    // §5.5: control frames are never fragmented and carry at most 125 bytes.
    if (op >= OP_CLOSE && (!fin || n > 125)) return BAD;
    const maskAt = p;
    if (m) p += 4;
    if (n > end - p) return BAD;
    if (op === OP_TEXT && !rsv1 && !utf8(d, p, n, m ? maskAt : -1, !fin)) return BAD;
    p += n;
  }
  return masked;
}

/**
 * RFC 3629 §4 UTF-8 over d[o..o+n), unmasked on the fly with the 4-byte key at `key` (§5.3) when
 * key >= 0. `partial` allows a sequence cut at the end (a fragmented message continues it).
 */
function utf8(d: Uint8Array, o: number, n: number, key: number, partial: boolean): boolean {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (let i = 0; i < n; i++) {
    const c = key >= 0 ? d[o + i] ^ d[key + (i & 3)] : d[o + i];
    if (need === 0) {
      if (c < 0x80) continue;
      if (c >= 0xc2 && c <= 0xdf) need = 1;
      else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        // No overlongs (E0 A0..) and no surrogates (ED ..9F).
        if (c === 0xe0) lo = 0xa0;
        if (c === 0xed) hi = 0x9f;
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c === 0xf0) lo = 0x90;
        if (c === 0xf4) hi = 0x8f;
      } else return false;
      continue;
    }
    if (c < lo || c > hi) return false;
    lo = 0x80;
    hi = 0xbf;
    need--;
  }
  return need === 0 || partial;
}

const websocket: DpiParser & { slot: number } = {
  app: App.WebSocket,
  name: 'websocket',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, data: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    let st = (flow.state[this.slot] as number | undefined) ?? 0;
    const ok = fromClient ? CLIENT_OK : SERVER_OK;
    // Only each side's first payload is judged: by the second, frames may span segments.
    if ((st & ok) !== 0) return CONTINUE;
    if ((fromClient ? flow.clientPackets : flow.serverPackets) !== 1) return NO_MATCH;
    const m = frames(data, off, len);
    if (m === BAD) return NO_MATCH;
    st |= ok | (m === 1 ? (fromClient ? CLIENT_MASKED : SERVER_MASKED) : 0);
    flow.state[this.slot] = st;
    if ((st & (CLIENT_OK | SERVER_OK)) !== (CLIENT_OK | SERVER_OK)) return CONTINUE;
    // Exactly one side masks.
    return ((st & CLIENT_MASKED) !== 0) !== ((st & SERVER_MASKED) !== 0) ? MATCH : NO_MATCH;
  },
};

export default websocket;
