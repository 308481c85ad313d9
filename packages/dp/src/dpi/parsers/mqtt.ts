/**
 * MQTT (OASIS MQTT 3.1.1 and 5.0, and the MQIsdp 3.1 predecessor). The client's first packet is
 * CONNECT (§3.1): fixed header 0x10, a variable-length remaining length (§2.2.3), the protocol
 * name as a length-prefixed string ("MQTT" or "MQIsdp"), the protocol level and the connect
 * flags. Those first bytes are specific enough alone. A session whose CONNECT was not seen is left
 * unknown rather than guessed from the shorter packets that follow it.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { startsWith } from './binread.js';

/** MQTT 3.1.1 §3.1.1: packet type 1, flags 0. */
const CONNECT = 0x10;
/** §2.2.3: the remaining length takes at most four octets. */
const MAX_LENGTH_OCTETS = 4;
/** Protocol name, level and flags (§3.1.2) plus keep-alive: the octets needed after the length. */
const VARIABLE_HEADER = 2 + 6 + 1 + 1 + 2;

/** Levels: 3 for MQIsdp 3.1, 4 for 3.1.1 (§3.1.2.2), 5 for 5.0 (§3.1.2.2). */
const LEVEL_31 = 3;
const LEVEL_311 = 4;
const LEVEL_5 = 5;

const mqtt = {
  app: App.MQTT,
  name: 'mqtt',
  transports: TCP,
  slot: -1,

  classify(_flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    if (!fromClient) return NO_MATCH;
    const end = off + len;
    if (b[off] !== CONNECT) return NO_MATCH;
    let remaining = 0;
    let p = off + 1;
    for (let i = 0; ; i++) {
      if (p >= end) return CONTINUE;
      if (i === MAX_LENGTH_OCTETS) return NO_MATCH;
      const c = b[p++];
      remaining += (c & 0x7f) * 2 ** (7 * i);
      if ((c & 0x80) === 0) break;
    }
    // The protocol name, level, flags, keep-alive and a client identifier length must fit.
    if (remaining < VARIABLE_HEADER) return NO_MATCH;
    if (end - p < VARIABLE_HEADER) return end - p >= 2 ? nameSoFar(b, p, end) : CONTINUE;
    const nameLen = (b[p] << 8) | b[p + 1];
    let level: number;
    if (nameLen === 4 && startsWith(b, p + 2, end, 'MQTT')) level = b[p + 6];
    else if (nameLen === 6 && startsWith(b, p + 2, end, 'MQIsdp')) level = b[p + 8];
    else return NO_MATCH;
    if (nameLen === 4 ? level !== LEVEL_311 && level !== LEVEL_5 : level !== LEVEL_31) return NO_MATCH;
    // §3.1.2.3: bit 0 of the connect flags is reserved and must be 0.
    const flags = b[p + 2 + nameLen + 1];
    return (flags & 1) === 0 ? MATCH : NO_MATCH;
  },
};

/** A CONNECT cut short: keep waiting only while the protocol name read so far is possible. */
function nameSoFar(b: Uint8Array, p: number, end: number): Verdict {
  const nameLen = (b[p] << 8) | b[p + 1];
  const lit = nameLen === 4 ? 'MQTT' : nameLen === 6 ? 'MQIsdp' : '';
  if (lit === '') return NO_MATCH;
  for (let i = 0; i < lit.length && p + 2 + i < end; i++) if (b[p + 2 + i] !== lit.charCodeAt(i)) return NO_MATCH;
  return CONTINUE;
}

export default mqtt satisfies DpiParser;
