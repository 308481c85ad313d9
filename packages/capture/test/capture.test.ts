import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capture } from '../index.js';
import { collect, framesOf, isTestDatagram, seqOf, type Frame } from './collect.js';
import { createNetnsPair, type NetnsPair } from './netns-pair.js';
import { macBytes, sendRawFrame } from './raw-sender.js';
import { transferTcp } from './tcp-transfer.js';
import { sendUdp, sendUdpAsync, testPayload } from './udp-sender.js';

const ETH_IP_UDP = 14 + 20 + 8;
let net: NetnsPair;

beforeAll(() => {
  net = createNetnsPair();
});

afterAll(() => {
  net?.remove();
});

function withCapture<T>(opts: ConstructorParameters<typeof Capture>[0], body: (cap: Capture) => T): T {
  const cap = new Capture({ netns: net.capNs, ...opts });
  try {
    return body(cap);
  } finally {
    cap.close();
  }
}

describe('live capture in a namespace', () => {
  it('delivers each datagram with ifindex, lengths, timestamp and payload bytes', () => {
    withCapture({}, (cap) => {
      const before = Date.now() / 1000;
      sendUdp(net.genNs, net.capIp, 40001, 20, 100);
      const frames = collect(cap, (f) => isTestDatagram(f, 40001), 20);
      const after = Date.now() / 1000;

      expect(frames.map(seqOf)).toEqual([...Array(20).keys()]);
      for (const f of frames) {
        expect(f.ifindex).toBe(net.capIfindex);
        expect(f.wireLen).toBe(ETH_IP_UDP + 100);
        expect(f.capLen).toBe(ETH_IP_UDP + 100);
        expect(f.vlan).toBe(0);
        expect(f.pktType).toBe(0); // PACKET_HOST: addressed to this namespace's interface
        expect([...f.bytes.subarray(0, 6)]).toEqual(macBytes(net.capMac));
        expect([...f.bytes.subarray(6, 12)]).toEqual(macBytes(net.genMac));
        expect(f.bytes.subarray(ETH_IP_UDP)).toEqual(testPayload(seqOf(f), 100));
        const ts = f.sec + f.nsec / 1e9;
        expect(f.nsec).toBeLessThan(1e9);
        expect(ts).toBeGreaterThanOrEqual(before - 0.01);
        expect(ts).toBeLessThanOrEqual(after + 0.01);
      }
      const stats = cap.stats();
      expect(stats.packets).toBeGreaterThanOrEqual(20);
      expect(stats.drops).toBe(0);
    });
  });

  it('cuts frames at snapLen but reports the original length', () => {
    withCapture({ snapLen: 64 }, (cap) => {
      sendUdp(net.genNs, net.capIp, 40002, 3, 1000);
      const frames = collect(cap, (f) => isTestDatagram(f, 40002), 3);
      expect(frames).toHaveLength(3);
      for (const f of frames) {
        expect(f.capLen).toBe(64);
        expect(f.bytes).toHaveLength(64);
        expect(f.wireLen).toBe(ETH_IP_UDP + 1000);
        expect(f.bytes.subarray(ETH_IP_UDP)).toEqual(testPayload(seqOf(f), 1000).subarray(0, 64 - ETH_IP_UDP));
      }
    });
  });

  it('keeps snapLen bytes of TSO super-frames and reports their full length', async () => {
    const cap = new Capture({ netns: net.capNs, snapLen: 256 });
    try {
      // Client in the capture namespace: its large writes leave through capIf as outgoing super-frames.
      expect(await transferTcp(net.genNs, net.capNs, net.genIp, 40010, 1 << 20)).toBe(1 << 20);
      const big = collect(cap, (f) => f.pktType === 4 && f.wireLen > 1514, 1);
      expect(big.length).toBeGreaterThanOrEqual(1);
      for (const f of big) {
        expect(f.capLen).toBe(256);
        expect(f.bytes[23]).toBe(6); // TCP
        // The IP header's total length agrees with the kernel's length, not with what was captured.
        expect((f.bytes[16] << 8) | f.bytes[17]).toBe(f.wireLen - 14);
      }
    } finally {
      cap.close();
    }
  });

  it('reports a VLAN tag the kernel stripped, with tpid and tci', () => {
    withCapture({}, (cap) => {
      const tci = (5 << 13) | 10; // priority 5, VLAN 10
      const frame = new Uint8Array(64);
      frame.set(macBytes(net.capMac), 0);
      frame.set(macBytes(net.genMac), 6);
      frame.set([0x81, 0x00, tci >> 8, tci & 0xff, 0x88, 0xb5], 12); // 802.1Q, then local-experimental type
      frame.set([0x4d, 0x53, 0x45, 0x47], 18);
      sendRawFrame(net.genNs, net.genIf, frame);
      const [f] = collect(cap, (x) => x.vlan !== 0, 1);
      expect(f).toBeDefined();
      expect(f.vlan).toBe((tci | (0x8100 << 16)) >>> 0);
      // The tag is gone from the bytes: the inner type follows the MACs.
      expect([...f.bytes.subarray(12, 18)]).toEqual([0x88, 0xb5, 0x4d, 0x53, 0x45, 0x47]);
      expect(f.wireLen).toBe(60);
      expect(f.ifindex).toBe(net.capIfindex);
    });
  });

  it('captures on one interface when bound to its ifindex', () => {
    withCapture({ ifindex: net.capIfindex }, (cap) => {
      sendUdp(net.genNs, net.capIp, 40003, 5, 10);
      expect(collect(cap, (f) => isTestDatagram(f, 40003), 5)).toHaveLength(5);
    });
    withCapture({ ifindex: 1 }, (cap) => {
      sendUdp(net.genNs, net.capIp, 40004, 5, 10);
      expect(collect(cap, (f) => isTestDatagram(f, 40004), 1, 300)).toHaveLength(0);
    });
  });

  it('counts kernel drops when the ring is not drained', () => {
    withCapture({ blockSize: 4096, blockCount: 2, snapLen: 64 }, (cap) => {
      sendUdp(net.genNs, net.capIp, 40005, 300, 10);
      const stats = cap.stats();
      expect(stats.packets).toBeGreaterThanOrEqual(300);
      expect(stats.drops).toBeGreaterThan(0);
      expect(stats.freezeQueueCount).toBeGreaterThan(0);
      expect(stats.packets).toBeGreaterThanOrEqual(stats.drops);
      // Counters are cumulative although the kernel resets them on every read.
      expect(cap.stats().drops).toBeGreaterThanOrEqual(stats.drops);
      cap.close();
      expect(cap.stats().drops).toBeGreaterThanOrEqual(stats.drops);
    });
  });

  it('lends one block at a time and detaches it on release and close', () => {
    const cap = new Capture({ netns: net.capNs });
    try {
      sendUdp(net.genNs, net.capIp, 40006, 2, 10);
      const batch = cap.next(2000);
      expect(batch).not.toBeNull();
      expect(batch!.count).toBeGreaterThan(0);
      expect(batch!.buffer.byteLength).toBe(1 << 20);
      expect(() => cap.next()).toThrow(expect.objectContaining({ code: 'MSEG_ERR_CAPTURE_BUSY' }));
      cap.release();
      expect(batch!.buffer.byteLength).toBe(0);
      cap.release(); // nothing lent: no-op

      sendUdp(net.genNs, net.capIp, 40006, 2, 10);
      const second = cap.next(2000);
      expect(second).not.toBeNull();
      cap.close();
      expect(second!.buffer.byteLength).toBe(0);
      expect(cap.closed).toBe(true);
      expect(() => cap.next()).toThrow(expect.objectContaining({ code: 'MSEG_ERR_CAPTURE_CLOSED' }));
      cap.close();
    } finally {
      cap.close();
    }
  });

  it('watch() delivers batches from the event loop while it stays free', async () => {
    const cap = new Capture({ netns: net.capNs, blockTimeoutMs: 5 });
    const frames: Frame[] = [];
    try {
      const done = new Promise<void>((resolve, reject) => {
        cap.watch((err) => {
          if (err) return reject(err);
          for (let b = cap.next(); b !== null; b = cap.next()) {
            try {
              for (const f of framesOf(b)) if (isTestDatagram(f, 40007)) frames.push(f);
            } finally {
              cap.release();
            }
          }
          if (frames.length === 10) resolve();
        });
      });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      try {
        await sendUdpAsync(net.genNs, net.capIp, 40007, 10, 32);
        await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('timed out')), 5000))]);
      } finally {
        clearInterval(timer);
      }
      expect(frames.map(seqOf)).toEqual([...Array(10).keys()]);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      cap.unwatch();
      cap.close();
    }
  });
});

describe('errors', () => {
  it('names a missing namespace with ENOENT and its path', () => {
    expect(() => new Capture({ netns: 'mseg-no-such-netns' })).toThrow(
      expect.objectContaining({
        code: 'ENOENT', errno: -2, syscall: 'open', path: '/run/netns/mseg-no-such-netns',
        message: expect.stringContaining('no such network namespace'),
      }),
    );
  });

  it('rejects a namespace name that is not one path component', () => {
    expect(() => new Capture({ netns: '../proc/1/ns/net' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects an unknown interface with ENODEV', () => {
    expect(() => new Capture({ netns: net.capNs, ifindex: 9999 })).toThrow(
      expect.objectContaining({ code: 'ENODEV', syscall: 'bind' }),
    );
  });

  it('rejects bad ring options before touching the kernel', () => {
    expect(() => new Capture({ blockSize: 12288 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Capture({ snapLen: 8192, blockSize: 8192 })).toThrow(RangeError);
    expect(() => new Capture({ blockCount: 1.5 })).toThrow(RangeError);
    expect(() => new Capture({ netns: 7 as unknown as string })).toThrow(TypeError);
  });

  it('says CAP_NET_RAW is needed when the process lacks it', () => {
    const url = new URL('../index.js', import.meta.url).href;
    const script = `import { Capture } from ${JSON.stringify(url)};
try { new Capture(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const out = execFileSync('setpriv', ['--bounding-set=-net_raw', '--inh-caps=-net_raw', process.execPath, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const err = JSON.parse(out) as { code: string; message: string };
    expect(err.code).toBe('EPERM');
    expect(err.message).toContain('CAP_NET_RAW');
  });
});
