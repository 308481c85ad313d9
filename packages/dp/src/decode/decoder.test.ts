import { describe, expect, it } from 'vitest';
import { buildFrame } from '../testing/frame-builder.js';
import { formatAddress } from '../net/address.js';
import { decodeFrame } from './decoder.js';
import { LinkType } from './linktype.js';
import { Malformed, NOT_IP, Packet, TCP_SYN } from './packet.js';

const p = new Packet();

function decode(frame: Uint8Array, linkType: number = LinkType.ETHERNET): number {
  return decodeFrame(linkType, frame, 0, frame.length, p);
}

describe('frame decoder', () => {
  it('decodes Ethernet/IPv4/TCP with ports, flags and payload bounds', () => {
    const f = buildFrame({ src: '10.1.2.3', dst: '10.9.8.7', proto: 'tcp', sport: 40000, dport: 80, flags: 'S', seq: 7, payload: 'hi' });
    expect(decode(f)).toBe(0);
    expect(p.ipVersion).toBe(4);
    expect(formatAddress(p.src)).toBe('10.1.2.3');
    expect(formatAddress(p.dst)).toBe('10.9.8.7');
    expect([p.proto, p.sport, p.dport, p.seq]).toEqual([6, 40000, 80, 7]);
    expect(p.tcpFlags & TCP_SYN).toBe(TCP_SYN);
    expect(p.payloadLen).toBe(2);
    expect(p.ipLen).toBe(20 + 20 + 2);
  });

  it('decodes IPv6/UDP and IPv6 extension headers', () => {
    const f = buildFrame({ src: 'fd00::1', dst: '2001:db8::53', proto: 'udp', sport: 5000, dport: 53, payload: 'xyz' });
    expect(decode(f)).toBe(0);
    expect(formatAddress(p.dst)).toBe('2001:db8::53');
    expect([p.proto, p.sport, p.dport, p.payloadLen]).toEqual([17, 5000, 53, 3]);
    // Insert an 8-byte hop-by-hop header before UDP.
    const ext = new Uint8Array(f.length + 8);
    ext.set(f.subarray(0, 54), 0);
    ext[14 + 6] = 0; // next header: hop-by-hop
    ext[14 + 5] += 8; // payload length
    ext[54] = 17; // hop-by-hop's next header: UDP
    ext[55] = 0; // length 8 bytes
    ext.set(f.subarray(54), 62);
    expect(decode(ext)).toBe(0);
    expect([p.proto, p.dport, p.payloadLen]).toEqual([17, 53, 3]);
  });

  it('strips 802.1Q and QinQ tags', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 1, dport: 2 });
    const tagged = new Uint8Array(f.length + 8);
    tagged.set(f.subarray(0, 12), 0);
    tagged.set([0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00], 12);
    tagged.set(f.subarray(14), 22);
    expect(decode(tagged)).toBe(0);
    expect(p.vlan).toBe(100);
    expect(p.dport).toBe(2);
  });

  it('decodes PPPoE sessions and MPLS label stacks', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 1, dport: 53 });
    const pppoe = new Uint8Array(f.length + 8);
    pppoe.set(f.subarray(0, 12), 0);
    pppoe.set([0x88, 0x64, 0x11, 0x00, 0x00, 0x01, 0x00, 0x20, 0x00, 0x21], 12);
    pppoe.set(f.subarray(14), 22);
    expect(decode(pppoe)).toBe(0);
    expect(p.dport).toBe(53);
    pppoe[21] = 0x2b; // PPP protocol other than IP
    expect(decode(pppoe)).toBe(NOT_IP);
    const mpls = new Uint8Array(f.length + 8);
    mpls.set(f.subarray(0, 12), 0);
    mpls.set([0x88, 0x47, 0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40], 12);
    mpls.set(f.subarray(14), 22);
    expect(decode(mpls)).toBe(0);
    expect(p.dport).toBe(53);
  });

  it('decodes 6in4 and IP-in-IP tunnels', () => {
    const inner = buildFrame({ src: 'fd00::1', dst: 'fd00::2', proto: 'udp', sport: 40000, dport: 514, payload: '<13>hi' }).subarray(14);
    const outer = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', payload: inner });
    // Turn the outer UDP into protocol 41 carrying the IPv6 packet directly after the IPv4 header.
    const sixin4 = new Uint8Array(14 + 20 + inner.length);
    sixin4.set(outer.subarray(0, 34), 0);
    sixin4[14 + 9] = 41;
    sixin4[14 + 2] = (20 + inner.length) >> 8;
    sixin4[14 + 3] = (20 + inner.length) & 255;
    sixin4.set(inner, 34);
    expect(decode(sixin4)).toBe(0);
    expect(p.tunnelled).toBe(true);
    expect(formatAddress(p.src)).toBe('fd00::1');
    expect(p.dport).toBe(514);
  });

  it('decodes the inner frame of VXLAN', () => {
    const inner = buildFrame({ src: '192.168.0.1', dst: '192.168.0.2', proto: 'tcp', sport: 1234, dport: 443, flags: 'S' });
    const vx = new Uint8Array(8 + inner.length);
    vx[0] = 0x08;
    vx.set(inner, 8);
    const outer = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 55555, dport: 4789, payload: vx });
    expect(decode(outer)).toBe(0);
    expect(p.tunnelled).toBe(true);
    expect(formatAddress(p.src)).toBe('192.168.0.1');
    expect(p.dport).toBe(443);
  });

  it('reads raw IP, Linux SLL and SLL2 link types', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 9, dport: 10 });
    const ip = f.subarray(14);
    expect(decode(ip, LinkType.RAW)).toBe(0);
    const sll = new Uint8Array(16 + ip.length);
    sll[14] = 0x08;
    sll.set(ip, 16);
    expect(decode(sll, LinkType.LINUX_SLL)).toBe(0);
    const sll2 = new Uint8Array(20 + ip.length);
    sll2[0] = 0x08;
    sll2.set(ip, 20);
    expect(decode(sll2, LinkType.LINUX_SLL2)).toBe(0);
    expect(p.dport).toBe(10);
  });

  it('counts bytes from the IP header, not the capture (snap length)', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', sport: 1, dport: 2, payload: new Uint8Array(1000) });
    expect(decodeFrame(LinkType.ETHERNET, f, 0, 100, p)).toBe(0);
    expect(p.ipLen).toBe(1040);
    expect(p.payloadLen).toBe(100 - 14 - 40);
    expect(p.payloadWireLen).toBe(1000);
  });

  it('marks non-first fragments', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', fragOffset: 1480, payload: new Uint8Array(100) });
    expect(decode(f)).toBe(0);
    expect(p.isFragment).toBe(true);
    expect(p.fragOffset).toBe(1480);
  });

  it('returns a reason for malformed frames and NOT_IP for other EtherTypes', () => {
    const f = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', sport: 1, dport: 2 });
    expect(decodeFrame(LinkType.ETHERNET, f, 0, 10, p)).toBe(Malformed.truncatedLink);
    expect(decodeFrame(LinkType.ETHERNET, f, 0, 30, p)).toBe(Malformed.truncatedIp);
    expect(decodeFrame(LinkType.ETHERNET, f, 0, 40, p)).toBe(Malformed.truncatedL4);
    const badVer = f.slice();
    badVer[14] = 0x55;
    expect(decode(badVer)).toBe(Malformed.badIpVersion);
    const badIhl = f.slice();
    badIhl[14] = 0x42;
    expect(decode(badIhl)).toBe(Malformed.badIpHeader);
    const arp = f.slice();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(decode(arp)).toBe(NOT_IP);
    expect(decode(f, 9999)).toBe(Malformed.unsupportedLink);
  });

  it('never throws on any truncation of a valid frame', () => {
    const f = buildFrame({ src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport: 1, dport: 2, payload: 'GET / HTTP/1.1\r\n\r\n' });
    for (let n = 0; n <= f.length; n++) expect(() => decodeFrame(LinkType.ETHERNET, f, 0, n, p)).not.toThrow();
  });
});
