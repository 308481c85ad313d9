/**
 * Apache ZooKeeper client protocol (ZooKeeper Programmer's Guide and the jute records in
 * zookeeper.jute: ConnectRequest, ConnectResponse) and the four-letter-word admin commands
 * (Administrator's Guide, "ZooKeeper Commands: The Four Letter Words"). A session is recognised by
 * a ConnectRequest answered by a ConnectResponse, or by a four-letter word answered with the text
 * that command produces.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { startsWith, u32be } from './binread.js';

/**
 * ConnectRequest: int protocolVersion, long lastZxidSeen, int timeOut, long sessionId,
 * buffer passwd, and since 3.4 boolean readOnly; framed by a 4-byte length. 44 or 45 bytes.
 * ConnectResponse: int protocolVersion, int timeOut, long sessionId, buffer passwd [, readOnly].
 */
const REQUEST_LEN = 44;
const RESPONSE_LEN = 36;
/** The session password is 16 bytes. */
const PASSWD_LEN = 16;

/** flow.state: a ConnectRequest was seen; or WORD + index of the four-letter word sent. */
const CONNECTING = 1;
const WORD = 16;

/** Four-letter words and how the server's answer starts. */
const WORDS: readonly (readonly [string, string])[] = [
  ['ruok', 'imok'],
  ['stat', 'Zookeeper version: '],
  ['srvr', 'Zookeeper version: '],
  ['mntr', 'zk_version\t'],
  ['envi', 'Environment:\n'],
  ['conf', 'clientPort='],
  // "isro" answers exactly "rw" or "ro"; checked on its own below.
  ['isro', 'r'],
];
/** "4lw.commands.whitelist": a command that is not enabled is answered with this sentence. */
const NOT_ENABLED = ' is not executed because it is not in the whitelist.';

/** Checks a framed ConnectRequest / ConnectResponse body; returns false when any field is off. */
function connect(b: Uint8Array, off: number, len: number, request: boolean): boolean {
  const base = request ? REQUEST_LEN : RESPONSE_LEN;
  const n = len - 4;
  if (u32be(b, off) !== n || (n !== base && n !== base + 1)) return false;
  if (n === base + 1 && b[off + len - 1] > 1) return false;
  // protocolVersion is 0 in every released client and server.
  if (u32be(b, off + 4) !== 0) return false;
  const timeout = u32be(b, off + (request ? 16 : 8));
  if (timeout > 0x7fffffff || (request && timeout === 0)) return false;
  const pw = off + (request ? 28 : 20);
  if (u32be(b, pw) !== PASSWD_LEN) return false;
  if (request && u32be(b, off + 20) === 0 && u32be(b, off + 24) === 0) {
    // A new session (sessionId 0) sends an all-zero password.
    for (let i = pw + 4; i < pw + 4 + PASSWD_LEN; i++) if (b[i] !== 0) return false;
  }
  return true;
}

const parser = {
  app: App.ZooKeeper,
  name: 'zookeeper',
  transports: TCP,
  slot: -1,
  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const st = (flow.state[this.slot] as number | undefined) ?? 0;
    const end = off + len;
    if (fromClient) {
      if (st !== 0) return CONTINUE;
      if (len === 4) {
        for (let i = 0; i < WORDS.length; i++) {
          if (startsWith(b, off, end, WORDS[i][0])) {
            flow.state[this.slot] = WORD + i;
            return CONTINUE;
          }
        }
        return NO_MATCH;
      }
      if (!connect(b, off, len, true)) return NO_MATCH;
      flow.state[this.slot] = CONNECTING;
      return CONTINUE;
    }
    if (st === CONNECTING) return connect(b, off, len, false) ? MATCH : NO_MATCH;
    if (st < WORD) return NO_MATCH;
    const word = WORDS[st - WORD][0];
    const answer = WORDS[st - WORD][1];
    if (word === 'isro') return len === 2 && (b[off + 1] === 0x77 || b[off + 1] === 0x6f) && b[off] === 0x72 ? MATCH : NO_MATCH;
    if (startsWith(b, off, end, answer)) return MATCH;
    return startsWith(b, off, end, word) && startsWith(b, off + 4, end, NOT_ENABLED) ? MATCH : NO_MATCH;
  },
};

export default parser satisfies DpiParser;
