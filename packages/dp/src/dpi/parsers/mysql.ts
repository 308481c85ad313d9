/**
 * MySQL and MariaDB client/server protocol (MySQL Source Code Documentation, "Client/Server
 * Protocol"). A session is recognised by the server's first packet, Protocol::HandshakeV10 or an
 * ERR_Packet refusing the connection, or, when the capture missed the handshake, by a strict
 * COM_QUERY answered by a well-formed first response packet.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { equalsUpper, indexOf, isPrintable, latin1, u16le, u24le } from './binread.js';

/** flow.state value: a strict COM_QUERY was seen; the next server payload must answer it. */
const AWAIT_REPLY = 1;

/** "Protocol::HandshakeV10": protocol_version is always 10 for servers since 3.21. */
const PROTOCOL_V10 = 10;
/** "Capabilities Flags": CLIENT_PROTOCOL_41 (0x200) is set by every 4.1+ server. */
const CLIENT_PROTOCOL_41 = 0x0200;
/** "COM_QUERY": command byte 0x03. */
const COM_QUERY = 0x03;
const MAX_VERSION = 64;

/** Leading keywords a COM_QUERY must start with to count mid-stream (upper-case). */
const SQL_VERBS = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'SET', 'SHOW', 'BEGIN', 'COMMIT', 'ROLLBACK',
  'START', 'USE', 'CREATE', 'DROP', 'ALTER', 'CALL', 'EXPLAIN', 'DESCRIBE', 'WITH', 'LOCK', 'UNLOCK',
  'TRUNCATE', 'GRANT', 'REVOKE',
];

/**
 * "Protocol::Packet": int<3> payload_length, int<1> sequence_id. Returns the payload length when
 * the payload holds exactly one whole packet with the given sequence id, else -1.
 */
function wholePacket(b: Uint8Array, off: number, len: number, seq: number): number {
  if (len < 5) return -1;
  const n = u24le(b, off);
  return n + 4 === len && b[off + 3] === seq ? n : -1;
}

/** "Protocol::HandshakeV10", the server greeting. Copies the server version into meta.banner. */
function greeting(flow: DpiFlow, b: Uint8Array, off: number, len: number): boolean {
  if (wholePacket(b, off, len, 0) < 0 || b[off + 4] !== PROTOCOL_V10) return false;
  const end = off + len;
  // server_version: string<NUL>, printable and starting with a digit ("8.0.36", "5.5.5-10.6.12-MariaDB").
  const v = off + 5;
  const nul = indexOf(b, v, Math.min(end, v + MAX_VERSION + 1), 0);
  if (nul <= v || b[v] < 0x30 || b[v] > 0x39 || !isPrintable(b, v, nul - v)) return false;
  // thread_id int<4>, auth-plugin-data-part-1 string[8], filler int<1> = 0x00, capability_flags_1 int<2>.
  const fixed = nul + 1;
  if (fixed + 15 > end || b[fixed + 12] !== 0) return false;
  if ((u16le(b, fixed + 13) & CLIENT_PROTOCOL_41) === 0) return false;
  flow.meta.banner = latin1(b, v, nul - v);
  return true;
}

/**
 * A server that refuses the connection sends an ERR_Packet instead of the greeting ("Connection
 * Phase": ER_CON_COUNT_ERROR 1040, ER_HOST_IS_BLOCKED 1129, ER_HOST_NOT_PRIVILEGED 1130), without
 * the SQL-state marker since no capabilities were agreed yet; the message is printable text.
 */
function refusal(b: Uint8Array, off: number, len: number): boolean {
  const n = wholePacket(b, off, len, 0);
  if (n < 4 || b[off + 4] !== 0xff) return false;
  const code = u16le(b, off + 5);
  return (code === 1040 || code === 1129 || code === 1130) && isPrintable(b, off + 7, n - 3);
}

/** "COM_QUERY": one whole packet, sequence 0, command 0x03, printable SQL starting with a known verb. */
function comQuery(b: Uint8Array, off: number, len: number): boolean {
  const n = wholePacket(b, off, len, 0);
  if (n < 2 || b[off + 4] !== COM_QUERY) return false;
  const q = off + 5;
  const end = off + len;
  let w = q;
  while (w < end && ((b[w] >= 0x41 && b[w] <= 0x5a) || (b[w] >= 0x61 && b[w] <= 0x7a))) w++;
  if (w < end && b[w] !== 0x20 && b[w] !== 0x0a && b[w] !== 0x09 && b[w] !== 0x0d) return false;
  let verb = false;
  for (let i = 0; i < SQL_VERBS.length && !verb; i++) verb = equalsUpper(b, q, w - q, SQL_VERBS[i]);
  if (!verb) return false;
  for (let i = q; i < end; i++) {
    const c = b[i];
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/**
 * First response to COM_QUERY ("COM_QUERY Response"), sequence 1: OK_Packet (0x00), ERR_Packet
 * (0xff, error code, '#' SQL-state marker under CLIENT_PROTOCOL_41), or the column count of a
 * text result set (length-encoded integer 1..250, optionally followed by the metadata_follows byte
 * of CLIENT_OPTIONAL_RESULTSET_METADATA).
 */
function queryReply(b: Uint8Array, off: number, len: number): boolean {
  if (len < 5 || b[off + 3] !== 1) return false;
  const n = u24le(b, off);
  if (n === 0 || n + 4 > len) return false;
  const h = b[off + 4];
  if (h === 0x00) return n >= 7;
  if (h === 0xff) return n >= 9 && b[off + 7] === 0x23;
  if (h > 250) return false;
  return n === 1 || (n === 2 && b[off + 5] <= 1);
}

const parser = {
  app: App.MySQL,
  name: 'mysql',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const awaiting = flow.state[this.slot] === AWAIT_REPLY;
    if (!fromClient) {
      if (awaiting) return queryReply(b, off, len) ? MATCH : NO_MATCH;
      // The server speaks first: the greeting is the first payload it sends.
      if (flow.serverPackets !== 1) return NO_MATCH;
      return greeting(flow, b, off, len) || refusal(b, off, len) ? MATCH : NO_MATCH;
    }
    if (awaiting) return CONTINUE;
    if (!comQuery(b, off, len)) return NO_MATCH;
    flow.state[this.slot] = AWAIT_REPLY;
    return CONTINUE;
  },
};

export default parser satisfies DpiParser;
