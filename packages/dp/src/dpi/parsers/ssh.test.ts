import { describe, expect, it } from 'vitest';
import ssh from './ssh.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { ascii, hex, newFlow, offer, prefixMatches, randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(ssh);

// ssh.pcap, 172.16.238.1:58395 -> 172.16.238.168:22: the server speaks first.
const SERVER_53 = '5353482d322e302d4f70656e5353485f352e330d0a';
const CLIENT_56 = '5353482d322e302d4f70656e5353485f352e360d0a';
const KEXINIT = '00000384041418ba31471acef22d8889d6d144500df40000007e6469666669652d68656c6c6d616e';
// ssh.pcap, 127.0.0.1:58496 -> 127.0.0.1:8000 (Apache MINA SSHD on a non-standard port).
const CLIENT_UBUNTU = '5353482d322e302d4f70656e5353485f382e327031205562756e74752d347562756e7475302e31310d0a';
const SERVER_MINA = '5353482d322e302d4150414348452d535348442d322e352e300d0a';

describe('ssh parser', () => {
  it('matches the server identification and then records the client one', () => {
    const [v, , f] = run(ssh, [[false, SERVER_53]]);
    expect(v).toBe(MATCH);
    expect(f.meta.banner).toBe('SSH-2.0-OpenSSH_5.3');
    f.clientPackets++;
    expect(ssh.follow!(f, hex(CLIENT_56), 0, 21, true)).toBe(false);
    expect(f.meta.banner).toBe('SSH-2.0-OpenSSH_5.3');
    expect(f.threats).toEqual([]);
  });

  it('matches a client that speaks first and prefers the server banner', () => {
    const [v, , f] = run(ssh, [[true, CLIENT_UBUNTU]]);
    expect(v).toBe(MATCH);
    expect(f.meta.banner).toBe('SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11');
    f.serverPackets++;
    const srv = hex(SERVER_MINA);
    expect(ssh.follow!(f, srv, 0, srv.length, false)).toBe(false);
    expect(f.meta.banner).toBe('SSH-2.0-APACHE-SSHD-2.5.0');
  });

  it('accepts 1.99 and a bare LF, reports SSH-1 only', () => {
    expect(run(ssh, [[false, Buffer.from('SSH-1.99-Cisco-1.25\n').toString('hex')]])[0]).toBe(MATCH);
    const [v, , f] = run(ssh, [[false, Buffer.from('SSH-1.5-OpenSSH_2.3\r\n').toString('hex')]]);
    expect(v).toBe(MATCH);
    expect(f.threats.map((t) => t[0])).toEqual([Threat.SSH_V1]);
    const [v2, , f2] = run(ssh, [[false, Buffer.from('SSH-1.99-OpenSSH_3.9\r\n').toString('hex')]]);
    expect(v2).toBe(MATCH);
    expect(f2.threats).toEqual([]);
    expect(ssh.app).toBe(App.SSH);
  });

  it('refuses malformed identification strings', () => {
    for (const s of ['SSH-2.0-\r\n', 'SSH-2.0 OpenSSH\r\n', 'SSH-3.0-x\r\n', 'SSH-x.0-y\r\n', 'SSH-2.0-a\rb', 'SSH-2.0-a b\x01\r\n',
      'ssh-2.0-OpenSSH\r\n', 'SSH-2-OpenSSH\r\n', `SSH-2.0-${'a'.repeat(260)}\r\n`]) {
      expect(run(ssh, [[false, Buffer.from(s, 'latin1').toString('hex')]])[0]).toBe(NO_MATCH);
    }
  });

  it('waits on a valid prefix and never matches one', () => {
    expect(run(ssh, [[false, '5353482d322e30']])[0]).toBe(CONTINUE);
    expect(prefixMatches(ssh, false, hex(SERVER_53))).toBe(0);
    expect(prefixMatches(ssh, true, hex(CLIENT_UBUNTU))).toBe(0);
  });

  it('refuses other protocols, random bytes and binary SSH packets', () => {
    const foreign = refusals(ssh, [hex(KEXINIT)]);
    // The FOREIGN set carries one SSH identification (two directions).
    expect(foreign).toBe(2);
    expect(offer(ssh, newFlow(), true, hex(KEXINIT))).toBe(NO_MATCH);
    expect(offer(ssh, newFlow(), true, ascii('220 SSH-2.0 gateway ready\r\n'))).toBe(NO_MATCH);
  });

  it('never throws on random splits', () => {
    for (let s = 1; s < 50; s++) randomSplits(ssh, [[false, SERVER_53], [true, CLIENT_56], [true, KEXINIT]], s);
  });
});
