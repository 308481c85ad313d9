/**
 * Microsoft SQL Server Tabular Data Stream ([MS-TDS] 2.2.3 "Packets"). Every packet starts with an
 * 8-byte header: Type, Status, Length (big-endian, header included), SPID, PacketID, Window (0).
 * A session is recognised by a client packet whose header and message body both check out:
 * PRELOGIN option table, LOGIN7 length and TDS version, or SQL batch / RPC with ALL_HEADERS or
 * UCS-2 text. Server packets alone only keep the parser listening.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { u16be, u16le, u32le } from './binread.js';

const HEADER = 8;
/** 2.2.3.1.3: Length is at most the negotiated packet size, itself at most 32,767. */
const MAX_PACKET = 32767;
/** 2.2.3.1.1 Type. */
const SQL_BATCH = 0x01;
const RPC = 0x03;
const TABULAR_RESULT = 0x04;
const TRANSACTION_MANAGER = 0x0e;
const LOGIN7 = 0x10;
const PRELOGIN = 0x12;
/** 2.2.3.1.2 Status: EOM 0x01, IGNORE 0x02, RESETCONNECTION 0x08, RESETCONNECTIONSKIPTRAN 0x10 (0x04 is seen from some clients). */
const STATUS_MASK = 0x1f;
const EOM = 0x01;
/** 2.2.6.5 PRELOGIN option tokens 0x00..0x08, list terminated by 0xFF. */
const PL_TERMINATOR = 0xff;
const PL_MAX_TOKEN = 0x08;
/** 2.2.6.4 LOGIN7 TDSVersion values (little-endian on the wire). */
const TDS_VERSIONS: readonly number[] = [0x70000000, 0x71000000, 0x71000001, 0x72090002, 0x730a0003, 0x730b0003, 0x74000004, 0x08000000];
/** 2.2.5.3 ALL_HEADERS header types: query notifications 1, transaction descriptor 2, trace activity 3. */
const MAX_HEADER_TYPE = 3;
/** Characters of UCS-2 text checked in a batch or procedure name without ALL_HEADERS. */
const TEXT_CHECK = 8;
/** A batch without ALL_HEADERS must show at least this many characters ("COMMIT" has six). */
const MIN_TEXT = 4;
/** 2.2.7 token types that may open a server response. */
const RESPONSE_TOKENS: readonly number[] = [0x81, 0xa5, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xd1, 0xd2, 0xe3, 0xed, 0xee, 0xfd, 0xfe, 0xff, 0x79];
/** Payloads (both directions) offered before giving up: mid-stream, the first may continue an earlier message. */
const MID_STREAM_TRIES = 4;

/** 2.2.6.5: option headers (token, offset, length; big-endian) whose data lies inside the message. */
function prelogin(b: Uint8Array, s: number, n: number): boolean {
  let p = s;
  let options = 0;
  while (p < s + n && b[p] !== PL_TERMINATOR) {
    if (p + 5 > s + n || b[p] > PL_MAX_TOKEN) return false;
    const at = u16be(b, p + 1);
    const size = u16be(b, p + 3);
    if (at + size > n) return false;
    p += 5;
    options++;
  }
  // The first option must be VERSION (token 0) and the data must follow the option list.
  return options > 0 && p < s + n && b[s] === 0 && u16be(b, s + 1) === p + 1 - s;
}

/** 2.2.6.4 LOGIN7: Length (DWORD, whole message) then TDSVersion. */
function login7(b: Uint8Array, s: number, n: number, total: number): boolean {
  return n >= 8 && u32le(b, s) === total - HEADER && TDS_VERSIONS.includes(u32le(b, s + 4));
}

/** 2.2.5.3 ALL_HEADERS: TotalLength, then headers of HeaderLength (DWORD) and HeaderType (USHORT). */
function allHeaders(b: Uint8Array, s: number, n: number): boolean {
  if (n < 4) return false;
  const total = u32le(b, s);
  if (total < 4 + 6 || total > n) return false;
  let p = s + 4;
  while (p < s + total) {
    const hl = u32le(b, p);
    const type = u16le(b, p + 4);
    if (hl < 6 || p + hl > s + total || type < 1 || type > MAX_HEADER_TYPE) return false;
    p += hl;
  }
  return p === s + total;
}

/** Up to TEXT_CHECK UCS-2 code units of printable ASCII (or CR, LF, TAB). */
function ucs2Ascii(b: Uint8Array, s: number, units: number): boolean {
  if (units < 1) return false;
  for (let i = 0; i < Math.min(units, TEXT_CHECK); i++) {
    const lo = b[s + 2 * i];
    if (b[s + 2 * i + 1] !== 0 || ((lo < 0x20 || lo > 0x7e) && lo !== 0x0d && lo !== 0x0a && lo !== 0x09)) return false;
  }
  return true;
}

/** 2.2.6.7 SQLBatch: [ALL_HEADERS] SQLText (UCS-2). */
function sqlBatch(b: Uint8Array, s: number, n: number): boolean {
  if (allHeaders(b, s, n)) return true;
  return n >= 2 * MIN_TEXT && ucs2Ascii(b, s, n >> 1);
}

/** 2.2.6.6 RPCRequest: [ALL_HEADERS] then NameLenProcID: US_VARCHAR name or 0xFFFF + ProcID 1..15. */
function rpc(b: Uint8Array, s: number, n: number): boolean {
  if (allHeaders(b, s, n)) return true;
  if (n < 4) return false;
  const nameLen = u16le(b, s);
  if (nameLen === 0xffff) return u16le(b, s + 2) >= 1 && u16le(b, s + 2) <= 15;
  return nameLen >= 1 && nameLen <= 128 && 2 + Math.min(nameLen, TEXT_CHECK) * 2 <= n && ucs2Ascii(b, s + 2, nameLen);
}

/** Checks a packet header at b[off ..); returns the packet length or -1. */
function packetHeader(b: Uint8Array, off: number, len: number): number {
  if (len < HEADER || (b[off + 1] & ~STATUS_MASK) !== 0 || b[off + 7] !== 0) return -1;
  const size = u16be(b, off + 2);
  if (size <= HEADER || size > MAX_PACKET) return -1;
  // The last packet of a message (EOM) is small enough to arrive whole in the segment; a longer
  // packet may continue in the next segment but must show enough of its body to be checked.
  if (b[off + 1] & EOM ? size > len : size > len && len < HEADER + 16) return -1;
  return size;
}

/** Client message bodies by packet type (2.2.1 "Client Messages"). */
function clientMessage(type: number, b: Uint8Array, s: number, n: number, size: number): boolean {
  switch (type) {
    case PRELOGIN: return prelogin(b, s, n);
    case LOGIN7: return login7(b, s, n, size);
    case SQL_BATCH: return sqlBatch(b, s, n);
    case RPC: return rpc(b, s, n);
    case TRANSACTION_MANAGER: return allHeaders(b, s, n);
    default: return false;
  }
}

const parser = {
  app: App.TDS,
  name: 'tds',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const size = packetHeader(b, off, len);
    if (size > 0) {
      const s = off + HEADER;
      const n = Math.min(size, len) - HEADER;
      if (fromClient && clientMessage(b[off], b, s, n, size)) return MATCH;
      // 2.2.2 "Server Messages": a response proves little alone; wait for the client's next message.
      if (!fromClient && b[off] === TABULAR_RESULT && (prelogin(b, s, n) || RESPONSE_TOKENS.includes(b[s]))) return CONTINUE;
    }
    return flow.clientPackets + flow.serverPackets < MID_STREAM_TRIES ? CONTINUE : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
