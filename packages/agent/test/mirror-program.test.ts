// The mirror program in the kernel, without the DP: namespace `a` (playing a container) talks TCP
// to `b` over a veth pair; the program on a's eth0 copies onto nv-ex-eth0, whose peer nv-in sits
// in a capture namespace where @mseg/capture reads. Every segment is copied until the
// connection's two directions are in the bypass map; from then on its data segments are only
// counted (packets, IP bytes), while its FIN segments, UDP and ICMP are still copied.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { bpfMapLookup, bpfMapUpdate, Capture, FRAME_CAPLEN, FRAME_OFFSET, FRAME_WORDS } from '@mseg/capture';
import { KEY_SIZE, MAP_NAME, MAP_TYPE_HASH, parseAddress, VALUE_BYTES, VALUE_PACKETS, VALUE_SIZE, writeKey } from '@mseg/dp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SysBpf } from '../src/plumbing/bpf.js';
import { MIRROR_PREF } from '../src/plumbing/mirror-ops.js';
import { BpfMirrorPrograms } from '../src/plumbing/mirror-programs.js';
import { NetlinkRtnl } from '../src/plumbing/netlink/netlink-rtnl.js';
import { inNs, sh } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const PORT = 7002;
/** Bytes the client sends before and after the session is put in the map. */
const N1 = 300_000;
const N2 = 700_000;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;

// The server answers one byte once the first part and once the whole arrived; the client sends the
// second part when told on stdin, and its FIN only after the second answer (a FIN of its own).
const SERVER = `
const [host, port, n1, n2] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
let got = 0;
const srv = require('node:net').createServer((s) => {
  s.on('data', (d) => {
    const before = got;
    got += d.length;
    if ((before < n1 && got >= n1) || (before < n1 + n2 && got >= n1 + n2)) s.write('k');
  });
  s.on('end', () => { console.log('got ' + got); s.end(); srv.close(); });
});
srv.listen(port, host, () => console.log('up'));
setTimeout(() => process.exit(3), 30000).unref();
`;
const CLIENT = `
const [host, port, n1, n2] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
let answers = 0;
const s = require('node:net').connect(port, host, () => { console.log('port ' + s.localPort); s.write(Buffer.alloc(n1, 0x61)); });
s.on('data', (d) => {
  answers += d.length;
  if (answers === 1) console.log('sent1');
  if (answers === 2) s.end();
});
process.stdin.once('data', () => s.write(Buffer.alloc(n2, 0x62)));
setTimeout(() => process.exit(3), 30000).unref();
`;
/** One UDP datagram from a chosen source port (b has nothing there: it answers ICMP port unreachable). */
const UDP = `
const [host, port, sport] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
s.bind(Number(sport), () => s.send('MSEG', Number(port), host, () => s.close()));
`;

interface Packet {
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  seq: number;
  /** IP total length, and the L4 payload bytes under it. */
  totLen: number;
  hdrLen: number;
  payload: number;
  icmpType: number;
}

function parse(b: Uint8Array): Packet | null {
  if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ihl = (b[14] & 0x0f) * 4;
  const l4 = 14 + ihl;
  const p: Packet = {
    proto: b[23], src: b.subarray(26, 30).join('.'), dst: b.subarray(30, 34).join('.'),
    sport: 0, dport: 0, flags: 0, seq: 0, totLen: v.getUint16(16), hdrLen: ihl, payload: 0, icmpType: -1,
  };
  if (p.proto === 6 && b.length >= l4 + 20) {
    p.sport = v.getUint16(l4);
    p.dport = v.getUint16(l4 + 2);
    p.seq = v.getUint32(l4 + 4);
    p.hdrLen = ihl + (b[l4 + 12] >> 4) * 4;
    p.flags = b[l4 + 13];
    p.payload = p.totLen - p.hdrLen;
  } else if (p.proto === 17 && b.length >= l4 + 8) {
    p.sport = v.getUint16(l4);
    p.dport = v.getUint16(l4 + 2);
  } else if (p.proto === 1 && b.length > l4) {
    p.icmpType = b[l4];
  }
  return p;
}

/** Reads IPv4 packets off the capture until `done` says enough (bounded wait). */
function drain(cap: Capture, into: Packet[], done: (all: Packet[]) => boolean, waitMs = 10_000): Packet[] {
  const deadline = Date.now() + waitMs;
  while (!done(into) && Date.now() < deadline) {
    const batch = cap.next(50);
    if (batch === null) continue;
    try {
      for (let i = 0; i < batch.count; i++) {
        const w = batch.index.subarray(i * FRAME_WORDS, (i + 1) * FRAME_WORDS);
        const p = parse(new Uint8Array(batch.buffer, w[FRAME_OFFSET], w[FRAME_CAPLEN]));
        if (p) into.push(p);
      }
    } finally {
      cap.release();
    }
  }
  return into;
}

/** Resolves with the first stdout line matching `re`. */
function line(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}: ${out}`)));
  });
}

/** Payload bytes of distinct data segments (a retransmission counts once). */
const dataBytes = (ps: Packet[]): number => [...new Map(ps.filter((p) => p.payload > 0).map((p) => [p.seq, p.payload])).values()].reduce((a, b) => a + b, 0);

describe.skipIf(!isRoot)('the mirror program in the kernel', () => {
  const prefix = `msmp${randomBytes(3).toString('hex')}`;
  const [nsA, nsB, nsCap] = ['a', 'b', 'cap'].map((n) => `${prefix}-${n}`);
  const subnet = 1 + (randomBytes(1)[0] % 200);
  const ipA = `10.234.${subnet}.1`;
  const ipB = `10.234.${subnet}.2`;
  const bpf = new SysBpf();
  const children: ChildProcess[] = [];
  let mapFd = -1;
  let cap: Capture | null = null;
  let inIndex = 0;

  const index = (ns: string, dev: string): number => (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev])) as { ifindex: number }[])[0].ifindex;
  const run = (ns: string, script: string, args: (string | number)[]): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(c);
    return c;
  };

  beforeAll(async () => {
    for (const ns of [nsA, nsB, nsCap]) {
      sh(['ip', 'netns', 'add', ns]);
      // No IPv6 chatter in what is captured.
      sh(inNs(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
    }
    sh(['ip', 'link', 'add', 'eth0', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsB]);
    sh(['ip', 'link', 'add', 'nv-ex-eth0', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'nv-in-t', 'netns', nsCap]);
    sh(['ip', '-n', nsA, 'addr', 'add', `${ipA}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', nsB, 'addr', 'add', `${ipB}/24`, 'dev', 'eth0']);
    for (const [ns, dev] of [[nsA, 'eth0'], [nsB, 'eth0'], [nsA, 'nv-ex-eth0'], [nsCap, 'nv-in-t']]) sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    inIndex = index(nsCap, 'nv-in-t');
    const exIndex = index(nsA, 'nv-ex-eth0');

    mapFd = bpf.mapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, 64, MAP_NAME);
    const programs = new BpfMirrorPrograms(bpf, () => ({ fd: mapFd, id: bpf.mapInfo(mapFd).id, path: '' }));
    const prog = programs.load(exIndex, inIndex);
    try {
      await new NetlinkRtnl().addMirror(`/run/netns/${nsA}`, index(nsA, 'eth0'), true, [
        { hook: 'ingress', pref: MIRROR_PREF.ingress },
        { hook: 'egress', pref: MIRROR_PREF.egress },
      ], prog);
    } finally {
      programs.close(prog.fd);
    }
    cap = new Capture({ netns: nsCap, ifindex: inIndex, snapLen: 128, blockSize: 1 << 16, blockCount: 64 });
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    cap?.close();
    if (mapFd >= 0) bpf.close(mapFd);
    for (const ns of [nsA, nsB, nsCap]) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // Never made: nothing of ours there.
      }
    }
    expect(sh(['ip', 'netns', 'list']).split('\n').filter((l) => l.includes(prefix))).toEqual([]);
  });

  it('copies every segment until the session is bypassed, then counts its data segments; FIN, UDP and ICMP are still copied', async () => {
    const server = run(nsB, SERVER, [ipB, PORT, N1, N2]);
    await line(server, /^up$/m);
    const client = run(nsA, CLIENT, [ipB, PORT, N1, N2]);
    const clientPort = Number((await line(client, /^port (\d+)$/m))[1]);
    await line(client, /^sent1$/m);
    const conn = (p: Packet, from: string): boolean =>
      p.proto === 6 && (from === ipA ? p.src === ipA && p.sport === clientPort && p.dport === PORT : p.src === ipB && p.sport === PORT && p.dport === clientPort);

    // Before: the handshake and every data segment of both directions are copied.
    const before = drain(cap!, [], (all) => dataBytes(all.filter((p) => conn(p, ipA))) >= N1 && dataBytes(all.filter((p) => conn(p, ipB))) >= 1);
    const out1 = before.filter((p) => conn(p, ipA));
    const back1 = before.filter((p) => conn(p, ipB));
    expect(out1.filter((p) => p.flags & TCP_SYN)).toHaveLength(1);
    expect(back1.filter((p) => p.flags & TCP_SYN)).toHaveLength(1);
    expect(dataBytes(out1)).toBe(N1);
    expect(dataBytes(back1)).toBe(1);
    const hdrLen = out1.find((p) => p.payload > 0)!.hdrLen;

    // The DP's part: both directions of the session into the map, counters at zero.
    const keys = new Uint8Array(2 * KEY_SIZE);
    const kv = new DataView(keys.buffer);
    const [a, b] = [parseAddress(ipA)!, parseAddress(ipB)!];
    writeKey(kv, 0, inIndex, a, clientPort, b, PORT);
    writeKey(kv, KEY_SIZE, inIndex, b, PORT, a, clientPort);
    expect(bpfMapUpdate(mapFd, keys, KEY_SIZE, new Uint8Array(2 * VALUE_SIZE), VALUE_SIZE, 0)).toBe(2);

    // UDP on the session's very ports is no TCP segment: copied, as is b's ICMP answer.
    const udp = run(nsA, UDP, [ipB, PORT, clientPort]);
    await new Promise((r) => udp.once('exit', r));
    client.stdin!.write('go\n');
    expect((await line(server, /^got (\d+)$/m))[1]).toBe(String(N1 + N2));

    const after = drain(cap!, [], (all) =>
      all.filter((p) => p.proto === 6 && p.flags & TCP_FIN).length >= 2 && all.some((p) => p.proto === 17) && all.some((p) => p.proto === 1),
    );
    const tcp = after.filter((p) => conn(p, ipA) || conn(p, ipB));
    expect(tcp.filter((p) => p.payload > 0)).toEqual([]);
    expect(tcp.filter((p) => p.flags & TCP_FIN).map((p) => p.src).sort()).toEqual([ipA, ipB].sort());
    expect(after.filter((p) => p.proto === 17).map((p) => `${p.src}:${p.sport} > ${p.dst}:${p.dport}`)).toEqual([`${ipA}:${clientPort} > ${ipB}:${PORT}`]);
    expect(after.filter((p) => p.proto === 1).map((p) => `${p.src} > ${p.dst} type ${p.icmpType}`)).toEqual([`${ipB} > ${ipA} type 3`]);

    // What was not copied was counted: IP bytes are the data plus one header per packet.
    const values = new Uint8Array(2 * VALUE_SIZE);
    expect(bpfMapLookup(mapFd, keys, KEY_SIZE, values, VALUE_SIZE)).toBe(2);
    const vv = new DataView(values.buffer);
    const counted = (i: number) => ({ packets: Number(vv.getBigUint64(i * VALUE_SIZE + VALUE_PACKETS, true)), bytes: Number(vv.getBigUint64(i * VALUE_SIZE + VALUE_BYTES, true)) });
    const out2 = counted(0);
    const back2 = counted(1);
    expect(out2.packets).toBeGreaterThan(0);
    expect(out2.bytes - out2.packets * hdrLen).toBe(N2);
    expect(back2.packets).toBeGreaterThan(0);
    expect(back2.bytes - back2.packets * hdrLen).toBe(1);
  });
});
