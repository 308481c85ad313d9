import { describe, expect, it } from 'vitest';
import ntp from './ntp.js';
import { App } from '../apps.js';
import { MATCH, NO_MATCH } from '../parser.js';
import { hex, newFlow, offer, prefixMatches, randomBytes, refusals, slotted } from '../../../test/db-kit.js';

slotted(ntp);

// NTPv4.pcap, 85.22.62.120:123 -> 78.46.76.11:123: version 4, mode 3, stratum 2.
const CLIENT = '230207eb00000450000003ab83bc03dfd94f51c33165b860d944575530336fd0d944575531b4e978d94f51f42d26e2f4';
// An SNTP client request (RFC 4330 §5): only VN, mode and the transmit timestamp set.
const SNTP = '1b' + '00'.repeat(39) + 'e9a1b2c3d4e5f607';

describe('ntp parser', () => {
  it('matches real and SNTP client packets', () => {
    expect(offer(ntp, newFlow(), true, hex(CLIENT))).toBe(MATCH);
    expect(offer(ntp, newFlow(), true, hex(SNTP))).toBe(MATCH);
    expect(ntp.app).toBe(App.NTP);
    // A MAC (key id + 16-octet digest, RFC 5905 §7.3) may follow.
    expect(offer(ntp, newFlow(), true, hex(CLIENT + '00000001' + '11'.repeat(16)))).toBe(MATCH);
  });

  it('checks every bounded header field', () => {
    const b = hex(CLIENT);
    const broken = (at: number, v: number) => {
      const c = b.slice();
      c[at] = v;
      return offer(ntp, newFlow(), true, c);
    };
    expect(broken(0, 0x26)).toBe(NO_MATCH); // mode 6 (control)
    expect(broken(0, 0x2f)).toBe(NO_MATCH); // mode 7 (private)
    expect(broken(0, 0x03)).toBe(NO_MATCH); // version 0
    expect(broken(0, 0x2b)).toBe(NO_MATCH); // version 5
    expect(broken(1, 17)).toBe(NO_MATCH); // stratum
    expect(broken(2, 18)).toBe(NO_MATCH); // poll
    expect(broken(3, 0x05)).toBe(NO_MATCH); // positive precision
    expect(broken(8, 0x01)).toBe(NO_MATCH); // root dispersion ≥ 16 s
    expect(offer(ntp, newFlow(), true, hex(SNTP.slice(0, 80) + '00'.repeat(8)))).toBe(NO_MATCH); // no transmit time
    expect(offer(ntp, newFlow(), true, hex(CLIENT + '00'))).toBe(NO_MATCH); // not a multiple of 4
  });

  it('refuses other protocols, random 48-octet datagrams and every truncation', () => {
    expect(refusals(ntp)).toBe(0);
    expect(prefixMatches(ntp, true, hex(CLIENT))).toBe(0);
    let matches = 0;
    for (let s = 1; s <= 5000; s++) if (offer(ntp, newFlow(), true, randomBytes(s, 48)) === MATCH) matches++;
    expect(matches).toBe(0);
  });
});
