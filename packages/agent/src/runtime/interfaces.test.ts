import { describe, expect, it } from 'vitest';
import { parseIpAddr, readInterfaces } from './interfaces.js';

// `ip -j addr` of a container on two networks with plumbing in place and the ipip module loaded.
const OUTPUT = JSON.stringify([
  { ifindex: 1, ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', scope: 'host' }] },
  { ifindex: 2, ifname: 'tunl0', link_type: 'ipip', address: '0.0.0.0', addr_info: [] },
  {
    ifindex: 7,
    ifname: 'eth1',
    link_type: 'ether',
    address: '02:42:AC:13:00:02',
    addr_info: [
      { family: 'inet', local: '172.19.0.2', prefixlen: 16, scope: 'global' },
      { family: 'inet6', local: 'fd00:19::2', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::42:acff:fe13:2', prefixlen: 64, scope: 'link' },
    ],
  },
  { ifindex: 5, ifname: 'eth0', link_type: 'ether', address: '02:42:ac:11:00:03', addr_info: [{ family: 'inet', local: '172.17.0.3', scope: 'global' }] },
  { ifindex: 9, ifname: 'nv-ex-eth0', link_type: 'ether', address: '4e:65:75:56:00:0c', addr_info: [] },
]);

describe('parseIpAddr', () => {
  it('keeps Ethernet interfaces that are not ours, sorted by ifindex, with global addresses', () => {
    expect(parseIpAddr(OUTPUT)).toEqual([
      { name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:03', ips: ['172.17.0.3'] },
      { name: 'eth1', ifindex: 7, mac: '02:42:ac:13:00:02', ips: ['172.19.0.2', 'fd00:19::2'] },
    ]);
  });

  it('gives none for a namespace with only loopback', () => {
    expect(parseIpAddr('[{"ifindex":1,"ifname":"lo","link_type":"loopback","address":"00:00:00:00:00:00"}]')).toEqual([]);
  });
});

describe('readInterfaces', () => {
  it('runs ip inside the process network namespace', async () => {
    const calls: string[][] = [];
    const runner = {
      run: async (argv: readonly string[]) => {
        calls.push([...argv]);
        return OUTPUT;
      },
    };
    const got = await readInterfaces(runner, 4242);
    expect(calls).toEqual([['nsenter', '--net=/proc/4242/ns/net', '--', 'ip', '-j', 'addr', 'show']]);
    expect(got.map((i) => i.name)).toEqual(['eth0', 'eth1']);
  });
});
