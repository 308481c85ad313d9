import { describe, expect, it } from 'vitest';
import type { Address, Link } from '../plumbing/netlink/rtnl.js';
import { FakeKernel } from '../testing/fake-kernel.js';
import { readInterfaces, workloadInterfaces } from './interfaces.js';

const link = (ifindex: number, ifname: string, type: number, address: string): Link => ({ ifindex, ifname, type, address, up: true, addrgenNone: false });

// A container on two networks with plumbing in place and the ipip module loaded.
const LINKS: Link[] = [
  link(1, 'lo', 772, '00:00:00:00:00:00'),
  link(2, 'tunl0', 768, '00:00:00:00'),
  link(7, 'eth1', 1, '02:42:ac:13:00:02'),
  link(5, 'eth0', 1, '02:42:ac:11:00:03'),
  link(9, 'nv-ex-eth0', 1, '4e:65:75:56:00:0c'),
];
const ADDRESSES: Address[] = [
  { ifindex: 1, address: '127.0.0.1', scope: 254 },
  { ifindex: 7, address: '172.19.0.2', scope: 0 },
  { ifindex: 7, address: 'fd00:19::2', scope: 0 },
  { ifindex: 7, address: 'fe80::42:acff:fe13:2', scope: 253 },
  { ifindex: 5, address: '172.17.0.3', scope: 0 },
];

describe('workloadInterfaces', () => {
  it('keeps Ethernet interfaces that are not ours, sorted by ifindex, with global addresses', () => {
    expect(workloadInterfaces(LINKS, ADDRESSES)).toEqual([
      { name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:03', ips: ['172.17.0.3'] },
      { name: 'eth1', ifindex: 7, mac: '02:42:ac:13:00:02', ips: ['172.19.0.2', 'fd00:19::2'] },
    ]);
  });

  it('gives none for a namespace with only loopback', () => {
    expect(workloadInterfaces([LINKS[0]], [ADDRESSES[0]])).toEqual([]);
  });
});

describe('readInterfaces', () => {
  it('reads links and addresses inside the process network namespace', async () => {
    const k = new FakeKernel();
    k.addNetns('/proc/4242/ns/net');
    const eth0 = k.addLink('/proc/4242/ns/net', 'eth0');
    k.addAddress('/proc/4242/ns/net', 'eth0', '172.17.0.3');
    const got = await readInterfaces(k, 4242);
    expect(k.log).toEqual(['rtnl /proc/4242/ns/net: dump links', 'rtnl /proc/4242/ns/net: dump addresses']);
    expect(got).toEqual([{ name: 'eth0', ifindex: eth0.ifindex, mac: eth0.address, ips: ['172.17.0.3'] }]);
  });
});
