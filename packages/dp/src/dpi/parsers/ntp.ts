/**
 * NTP over UDP (RFC 5905 §7.3; versions 1-3 share the 48-octet header, RFC 1305 §3.2). A
 * 48-octet datagram is common, so every header field with a bounded range is checked; the mode 6
 * and 7 control formats (RFC 1305 Appendix B, ntpd's private mode) are other layouts and not
 * claimed.
 */
import { App } from '../apps.js';
import { MATCH, NO_MATCH, UDP, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { u32be } from './binread.js';

const HEADER_LEN = 48;
/** RFC 5905 §7.5: extension fields are ≥ 16 octets, padded to 4; the MAC is 4 + 16 or 4 + 20. */
const MAX_LEN = 1024;
/** RFC 5905 §7.3: stratum 16 means unsynchronized; 17-255 are reserved. */
const MAX_STRATUM = 16;
/** RFC 5905 §7.3: poll is log2 seconds; 17 (36 h) is the maximum, SNTP clients send 0. */
const MAX_POLL = 17;
/** RFC 5905 §7.3: precision is a signed log2 of seconds; -32 is below a nanosecond. */
const MIN_PRECISION = -32;
/** RFC 5905 §7.3 root dispersion: MAXDISP is 16 s, so the 16.16 value stays below 16 << 16. */
const MAX_ROOT_DISP = 16 << 16;

const MODE_SYMMETRIC_ACTIVE = 1;
const MODE_BROADCAST = 5;

const ntp = {
  app: App.NTP,
  name: 'ntp',
  transports: UDP,
  slot: -1,

  classify(_flow: DpiFlow, b: Uint8Array, off: number, len: number): Verdict {
    // RFC 5905 §7.3: the header is 48 octets; anything after it comes in 32-bit words.
    if (len < HEADER_LEN || len > MAX_LEN || (len & 3) !== 0) return NO_MATCH;
    const version = (b[off] >> 3) & 7;
    const mode = b[off] & 7;
    // RFC 5905 §7.3 VN 1-4; modes 1-5 (symmetric active/passive, client, server, broadcast).
    if (version < 1 || version > 4 || mode < MODE_SYMMETRIC_ACTIVE || mode > MODE_BROADCAST) return NO_MATCH;
    if (b[off + 1] > MAX_STRATUM || b[off + 2] > MAX_POLL) return NO_MATCH;
    const precision = (b[off + 3] << 24) >> 24;
    if (precision > 0 || precision < MIN_PRECISION) return NO_MATCH;
    if (u32be(b, off + 8) >= MAX_ROOT_DISP) return NO_MATCH;
    // RFC 5905 §8: every packet carries the time it left (the transmit timestamp); a client may
    // randomise its own (RFC 9109 §4), but it is never zero.
    if (u32be(b, off + 40) === 0 && u32be(b, off + 44) === 0) return NO_MATCH;
    return MATCH;
  },
};

export default ntp satisfies DpiParser;
