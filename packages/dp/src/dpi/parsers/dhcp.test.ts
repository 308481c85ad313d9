import { describe, expect, it } from 'vitest';
import dhcp from './dhcp.js';
import { App } from '../apps.js';
import { MATCH, NO_MATCH } from '../parser.js';
import { hex, offer, newFlow, prefixMatches, refusals, slotted } from '../../../test/db-kit.js';

slotted(dhcp);

// fuzz-2006-06-26-2594.pcap, 192.168.1.2:68 -> 192.168.1.1:67: DHCPREQUEST (option 53 = 3).
const REQUEST = '01010600066d0c3800000000c0a80102000000000000000000000000dfe0ed016ebd00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000035000000000000000000000000000000006100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003400638253633501033d070100e0ed016ebd0c0764303032343635510b000000643030323436352e3c084d53465420352e30370a010f03062c2e2f1f212bff000000';

describe('dhcp parser', () => {
  it('matches a real DHCPREQUEST', () => {
    expect(offer(dhcp, newFlow(), true, hex(REQUEST))).toBe(MATCH);
    expect(dhcp.app).toBe(App.DHCP);
  });

  it('needs op, hardware type and length, the magic cookie and a message type', () => {
    const b = hex(REQUEST);
    const broken = (at: number, v: number) => {
      const c = b.slice();
      c[at] = v;
      return offer(dhcp, newFlow(), true, c);
    };
    expect(broken(0, 3)).toBe(NO_MATCH); // op
    expect(broken(1, 0)).toBe(NO_MATCH); // htype
    expect(broken(2, 7)).toBe(NO_MATCH); // hlen for Ethernet
    expect(broken(3, 17)).toBe(NO_MATCH); // hops
    expect(broken(236, 0x62)).toBe(NO_MATCH); // cookie
    expect(broken(242, 0)).toBe(NO_MATCH); // DHCP message type 0
    // Plain BOOTP (no message type option) is not claimed.
    const bootp = b.slice();
    bootp.fill(0xff, 240);
    expect(offer(dhcp, newFlow(), true, bootp)).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and every truncation', () => {
    expect(refusals(dhcp)).toBe(0);
    expect(prefixMatches(dhcp, true, hex(REQUEST), 243)).toBe(0);
  });
});
