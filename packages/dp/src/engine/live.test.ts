// The live DP answers a `stats` request on the control socket with the same counters it pushes
// every 10 s, capture ring counters included, and passes the ring geometry on to the capture.
// Needs root: the capture opens an AF_PACKET socket in a throw-away network namespace of its own.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../control/framing.js';
import { readCaptureFile } from '../source/capture-file.js';
import { LiveDataPlane } from './live.js';

const isRoot = process.getuid?.() === 0;
const ns = `mslt${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'mseg-live-'));
const socket = join(dir, 'dp.sock');
let live: LiveDataPlane | undefined;

/** Sends one message and resolves with the first reply. */
function ask(message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    const dec = new FrameDecoder();
    sock.on('data', (d) => {
      const [f] = dec.push(d);
      if (f) {
        sock.destroy();
        resolve(JSON.parse(f.toString('utf8')) as Record<string, unknown>);
      }
    });
    sock.on('error', reject);
    sock.write(encodeFrame(message));
  });
}

describe.skipIf(!isRoot)('live data plane control', () => {
  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    live = new LiveDataPlane({ socket, netns: ns, log: () => undefined });
    await live.start();
  });

  afterAll(async () => {
    await live?.stop();
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // never created: beforeAll failed before `ip netns add` succeeded
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('replies to a stats request with data-plane and capture counters', async () => {
    const r = await ask({ type: 'stats' });
    expect(r.type).toBe('stats');
    expect(r.counters).toMatchObject({ packets: 0, sessionsCreated: 0 });
    expect(r.capture).toEqual({ packets: 0, drops: 0, freezeQueueCount: 0 });
  });

  it('hands the ring geometry to the capture', async () => {
    // 5000 is no power of two: the capture's own check refusing it shows the option got there.
    const bad = new LiveDataPlane({ socket: join(dir, 'other.sock'), netns: ns, blockSize: 5000, log: () => undefined });
    await expect(bad.start()).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('sends the DNS answers it saw to the agent as a dns message with its report', async () => {
    const sock = connect(socket);
    const dec = new FrameDecoder();
    const messages: Record<string, unknown>[] = [];
    let arrived = (): void => undefined;
    sock.on('data', (d) => {
      for (const f of dec.push(d)) messages.push(JSON.parse(f.toString('utf8')) as Record<string, unknown>);
      arrived();
    });
    const next = (type: string): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} message`)), 5000);
        arrived = () => {
          const m = messages.find((x) => x.type === type);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        arrived();
      });
    try {
      sock.write(encodeFrame({ type: 'keepalive', seq: 1 }));
      await next('keepalive');
      const dp = live?.dp;
      if (!dp) throw new Error('live data plane not started');
      // The frames of a capture as if they came off the ring, then the report the 5-s timer would start.
      const pcap = fileURLToPath(new URL('../../test/captures/dns-udp-v4-53.pcap', import.meta.url));
      readCaptureFile(pcap, (lt, buf, off, cap, wire, ts) => dp.handleFrame(lt, buf, off, cap, wire, ts, 0));
      dp.report();
      const m = await next('dns');
      expect(m.items).toEqual(expect.arrayContaining([{ name: 'app.test', addr: '10.200.0.2', ttl: 0 }, { name: 'app.test', addr: 'fd00:200::2', ttl: 0 }]));
      expect(m.items).toHaveLength(2);
    } finally {
      sock.destroy();
    }
  });

  it('refuses a stats request with extra fields', async () => {
    const r = await ask({ type: 'stats', reset: true });
    expect(r.type).toBe('error');
  });
});
