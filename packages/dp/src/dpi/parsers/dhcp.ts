/**
 * DHCP (RFC 2131) and BOOTP (RFC 951) over UDP. A message is the fixed BOOTP header (236 octets),
 * the magic cookie 99.130.83.99 and options (RFC 2132). The cookie at its fixed offset, a legal
 * op/htype/hlen and an option list that holds a DHCP message type are too specific to be chance.
 */
import { App } from '../apps.js';
import { MATCH, NO_MATCH, UDP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { u32be } from './binread.js';

/** RFC 2131 §2: op, htype, hlen, hops, xid, secs, flags, 4 addresses, chaddr[16], sname[64], file[128]. */
const COOKIE_OFF = 236;
/** RFC 2131 §3: "the first four octets of the 'options' field ... 99, 130, 83 and 99". */
const MAGIC_COOKIE = 0x63825363;
const OPT_PAD = 0;
const OPT_MESSAGE_TYPE = 53;
const OPT_END = 255;
/** RFC 2132 §9.6: DHCPDISCOVER 1 .. DHCPINFORM 8; RFC 3203/4388/6926 add 9 .. 18. */
const MAX_MESSAGE_TYPE = 18;
/** RFC 951: a relay drops a request once hops exceeds 16 (RFC 1542 §4.1.1 recommends 4-16). */
const MAX_HOPS = 16;
/** ARP hardware types (RFC 5494 registry) in use today stay well below this; 0 is reserved. */
const MAX_HTYPE = 40;
/** chaddr is 16 octets (RFC 2131 §2). */
const MAX_HLEN = 16;

const dhcp = {
  app: App.DHCP,
  name: 'dhcp',
  transports: UDP,
  slot: -1,

  classify(_flow: DpiFlow, b: Uint8Array, off: number, len: number): Verdict {
    if (len < COOKIE_OFF + 4 + 3) return NO_MATCH;
    const op = b[off];
    const htype = b[off + 1];
    const hlen = b[off + 2];
    // RFC 2131 §2: op 1 BOOTREQUEST / 2 BOOTREPLY; hlen 6 for Ethernet (htype 1).
    if (op !== 1 && op !== 2) return NO_MATCH;
    if (htype === 0 || htype > MAX_HTYPE || hlen > MAX_HLEN || (htype === 1 && hlen !== 6)) return NO_MATCH;
    if (b[off + 3] > MAX_HOPS) return NO_MATCH;
    if (u32be(b, off + COOKIE_OFF) !== MAGIC_COOKIE) return NO_MATCH;
    return hasMessageType(b, off + COOKIE_OFF + 4, off + len) ? MATCH : NO_MATCH;
  },
};

/** RFC 2132 §2: options are pad, end, or code-length-value; look for a valid message type (§9.6). */
function hasMessageType(b: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    const code = b[p];
    if (code === OPT_END) return false;
    if (code === OPT_PAD) {
      p++;
      continue;
    }
    if (p + 1 >= end) return false;
    const len = b[p + 1];
    if (p + 2 + len > end) return false;
    if (code === OPT_MESSAGE_TYPE) return len === 1 && b[p + 2] >= 1 && b[p + 2] <= MAX_MESSAGE_TYPE;
    p += 2 + len;
  }
  return false;
}

export default dhcp satisfies DpiParser;
