/**
 * TFTP (RFC 1350) over UDP. A request (RRQ/WRQ) goes to the server's port; the transfer then runs
 * between two other ports (RFC 1350 §4, "transfer identifiers"), so a transfer session shows only
 * DATA, ACK, OACK and ERROR packets. A request, an option acknowledgment naming a known option,
 * or an error is recognisable on its own; DATA and ACK are only when the other side acknowledges
 * the block just sent (DATA n → ACK n) or sends the block acknowledged (ACK n → DATA n+1).
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, UDP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { equalsUpper, indexOf, u16be } from './binread.js';

/** RFC 1350 §5 opcodes, RFC 2347 §2 OACK. */
const RRQ = 1;
const WRQ = 2;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;
/** RFC 2348 §2: blksize is 8..65464, so DATA carries at most 4 + 65464 octets. */
const MAX_DATA = 4 + 65464;
/** RFC 1350 §5 error codes 0-7; RFC 2347 §2 adds 8 (option negotiation refused). */
const MAX_ERROR_CODE = 8;
/** File names longer than this are not what TFTP clients request. */
const MAX_FILENAME = 255;

/** Last DATA/ACK seen (opcode, block, direction); 0 before one. */
class TftpState {
  op = 0;
  block = 0;
  fromClient = false;
}

/** A NUL-terminated string of printable octets at p: the offset after its NUL, or -1. */
function cstring(b: Uint8Array, p: number, end: number, max: number): number {
  const nul = indexOf(b, p, end, 0);
  if (nul <= p || nul - p > max) return -1;
  for (let i = p; i < nul; i++) if (b[i] < 0x20 || b[i] > 0x7e) return -1;
  return nul + 1;
}

/**
 * RFC 2347 §2: options are name NUL value NUL pairs filling the rest of the packet. Returns the
 * number of pairs whose name is one the RFCs define, or -1 when the pairs do not fill the packet.
 */
function options(b: Uint8Array, p: number, end: number): number {
  let known = 0;
  while (p < end) {
    const name = p;
    const v = cstring(b, p, end, MAX_FILENAME);
    if (v < 0) return -1;
    if (isKnownOption(b, name, v - 1 - name)) known++;
    p = cstring(b, v, end, MAX_FILENAME);
    if (p < 0) return -1;
  }
  return known;
}

/** blksize (RFC 2348), timeout and tsize (RFC 2349), windowsize (RFC 7440), multicast (RFC 2090). */
function isKnownOption(b: Uint8Array, p: number, n: number): boolean {
  return (
    equalsUpper(b, p, n, 'BLKSIZE') ||
    equalsUpper(b, p, n, 'TSIZE') ||
    equalsUpper(b, p, n, 'TIMEOUT') ||
    equalsUpper(b, p, n, 'WINDOWSIZE') ||
    equalsUpper(b, p, n, 'MULTICAST')
  );
}

/** RFC 1350 §5: filename NUL mode NUL, mode "netascii", "octet" or "mail" in any case. */
function isRequest(b: Uint8Array, p: number, end: number): boolean {
  const mode = cstring(b, p, end, MAX_FILENAME);
  if (mode < 0) return false;
  const after = cstring(b, mode, end, 8);
  if (after < 0) return false;
  const n = after - 1 - mode;
  if (!equalsUpper(b, mode, n, 'NETASCII') && !equalsUpper(b, mode, n, 'OCTET') && !equalsUpper(b, mode, n, 'MAIL')) {
    return false;
  }
  return options(b, after, end) >= 0;
}

const tftp = {
  app: App.TFTP,
  name: 'tftp',
  transports: UDP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    if (len < 4) return NO_MATCH;
    const end = off + len;
    const op = u16be(b, off);
    switch (op) {
      case RRQ:
      case WRQ:
        return isRequest(b, off + 2, end) ? MATCH : NO_MATCH;
      case OACK:
        return options(b, off + 2, end) > 0 ? MATCH : NO_MATCH;
      case ERROR:
        // RFC 1350 §5: ErrorCode, ErrMsg, 0 — the message ends the packet.
        return u16be(b, off + 2) <= MAX_ERROR_CODE && (len === 5 ? b[off + 4] === 0 : cstring(b, off + 4, end, len) === end)
          ? MATCH
          : NO_MATCH;
      case DATA:
        if (len > MAX_DATA) return NO_MATCH;
        return transfer(flow, this.slot, op, u16be(b, off + 2), fromClient);
      case ACK:
        // RFC 1350 §5: an ACK is exactly opcode and block number.
        if (len !== 4) return NO_MATCH;
        return transfer(flow, this.slot, op, u16be(b, off + 2), fromClient);
      default:
        return NO_MATCH;
    }
  },
};

/** RFC 1350 §2: each DATA block is acknowledged by its number; the next block follows the ACK. */
function transfer(flow: DpiFlow, slot: number, op: number, block: number, fromClient: boolean): Verdict {
  let st = flow.state[slot] as TftpState | undefined;
  if (st === undefined) {
    st = new TftpState();
    flow.state[slot] = st;
  }
  if (st.op !== 0 && st.fromClient !== fromClient) {
    if (st.op === DATA && op === ACK && block === st.block) return MATCH;
    if (st.op === ACK && op === DATA && block === ((st.block + 1) & 0xffff)) return MATCH;
    return NO_MATCH;
  }
  // From the same side: a retransmission repeats the block, a window (RFC 7440) sends the next one.
  if (st.op !== 0 && (st.op !== op || (block !== st.block && block !== ((st.block + 1) & 0xffff)))) return NO_MATCH;
  st.op = op;
  st.block = block;
  st.fromClient = fromClient;
  return CONTINUE;
}

export default tftp satisfies DpiParser;
