// DP supervision: with the real mseg-dp (capturing in a namespace of this run) the supervisor
// connects, gets keepalive answers and brings the DP back after SIGKILL; with a scripted stand-in
// DP it is checked that every piece of state is sent again after a restart, that a DP which
// stops answering keepalives is restarted, and that DP messages reach their callbacks.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DpSupervisor } from '../src/dp/supervisor.js';
import { sh, waitFor } from './helpers/netns.js';
import { randomBytes } from 'node:crypto';

const isRoot = process.getuid?.() === 0;

/**
 * Stand-in DP: serves the control socket, prints each received message as a JSON line, answers
 * keepalives unless MUTE_AFTER keepalives were answered already, and sends a cut on connect.
 */
const FAKE_DP = `
const net = require('node:net');
const fs = require('node:fs');
const [sock, muteAfter] = process.argv.slice(1);
try { fs.unlinkSync(sock); } catch {}
let answered = 0;
const frame = (m) => { const b = Buffer.from(JSON.stringify(m)); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); return Buffer.concat([h, b]); };
net.createServer((c) => {
  let buf = Buffer.alloc(0);
  c.write(frame({ type: 'cut', workloadId: 'w1', client: '10.0.0.1', server: '10.0.0.2', clientPort: 40000, serverPort: 80, proto: 6, app: 'SSH', ruleId: 3 }));
  c.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const m = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString());
      buf = buf.subarray(4 + buf.readUInt32BE(0));
      console.log(JSON.stringify(m));
      if (m.type === 'keepalive' && answered < Number(muteAfter)) { answered++; c.write(frame({ type: 'keepalive', seq: m.seq, uptime: 1 })); }
    }
  });
}).listen(sock);
`;

let dir: string;
let sup: DpSupervisor | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mseg-dpsup-'));
});
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DP supervisor with a stand-in DP', () => {
  it('sends all state on connect and again after the DP is killed; routes DP messages', async () => {
    const socket = join(dir, 'fake.sock');
    const received: { type: string; pid: number }[] = [];
    const cuts: unknown[] = [];
    const logs: string[] = [];
    sup = new DpSupervisor({
      socket, netns: 'unused', bypassMap: 'unused', command: [process.execPath, '-e', FAKE_DP, socket, '1000'], keepaliveMs: 100, config: { reportInterval: 5 },
      onCut: (m) => cuts.push(m),
      onLog: (l) => {
        logs.push(l);
        const m = /^dp: (\{.*\})$/.exec(l);
        if (m) received.push({ ...(JSON.parse(m[1]) as { type: string }), pid: sup!.status().pid ?? 0 });
      },
    });
    sup.setPort(7, { workloadId: 'w1', macs: ['4e:65:75:56:00:07'], ips: ['10.0.0.2'] });
    sup.setPolicy('w1', 'protect', [{ id: 3, from: ['any'], to: ['10.0.0.2'], ports: 'tcp/80', apps: ['HTTP'], action: 'allow' }], 4);
    sup.start();
    await waitFor('connected and keepalives answered', () => received.some((m) => m.type === 'keepalive'));
    const first = sup.status().pid!;
    expect(received.filter((m) => m.type !== 'keepalive').map((m) => m.type)).toEqual(['config', 'port_add', 'policy_set']);
    await waitFor('cut routed', () => cuts.length === 1);
    expect(cuts[0]).toMatchObject({ type: 'cut', workloadId: 'w1', clientPort: 40000, serverPort: 80, ruleId: 3 });

    // A port added while connected goes out at once; the DP dies; everything is sent again.
    sup.setPort(9, { workloadId: 'w2', macs: [], ips: [] });
    await waitFor('second port', () => received.some((m) => m.type === 'port_add' && (m as unknown as { ifindex: number }).ifindex === 9));
    received.length = 0;
    process.kill(first, 'SIGKILL');
    await waitFor('restarted', () => sup!.status().pid !== null && sup!.status().pid !== first && sup!.status().state === 'connected', 5000);
    await waitFor('state again', () => received.filter((m) => m.type === 'policy_set').length === 1);
    expect(received.filter((m) => m.type !== 'keepalive').map((m) => m.type)).toEqual(['config', 'port_add', 'port_add', 'policy_set']);
    expect(sup.status().restarts).toBe(1);
    expect(logs.some((l) => l.includes('dp exited (SIGKILL)'))).toBe(true);
  });

  it('restarts a DP that stops answering keepalives', async () => {
    const socket = join(dir, 'mute.sock');
    const logs: string[] = [];
    sup = new DpSupervisor({ socket, netns: 'unused', bypassMap: 'unused', command: [process.execPath, '-e', FAKE_DP, socket, '2'], keepaliveMs: 100, onLog: (l) => logs.push(l) });
    sup.start();
    await waitFor('connected', () => sup!.status().state === 'connected');
    const first = sup.status().pid;
    await waitFor('restart of the hung DP', () => sup!.status().restarts >= 1 && sup!.status().state === 'connected' && sup!.status().pid !== first, 5000);
    expect(logs.some((l) => l.includes('did not answer keepalives for 300 ms'))).toBe(true);
  });

  it('kills the DP an earlier (SIGKILLed) agent left running, and only that one', async () => {
    const socket = join(dir, 'orphan.sock');
    const argv = [process.execPath, '-e', FAKE_DP, socket, '1000'];
    // The earlier agent's DP: still running, named in the pid file.
    const orphan = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    // A process with a pid file naming it but not our socket must survive.
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const orphanExit = new Promise((r) => orphan.once('exit', (_c, sig) => r(sig)));
    try {
      await waitFor('orphan listening', () => existsSync(socket));
      writeFileSync(`${socket}.pid`, `${orphan.pid}\n`);
      const logs: string[] = [];
      sup = new DpSupervisor({ socket, netns: 'unused', bypassMap: 'unused', command: argv, keepaliveMs: 100, onLog: (l) => logs.push(l) });
      sup.start();
      expect(await orphanExit).toBe('SIGKILL');
      await waitFor('own DP connected', () => sup!.status().state === 'connected');
      expect(readFileSync(`${socket}.pid`, 'utf8').trim()).toBe(String(sup.status().pid));
      expect(logs.some((l) => l.includes(`killing pid ${orphan.pid}`))).toBe(true);
      await sup.stop();
      expect(existsSync(`${socket}.pid`)).toBe(false);

      writeFileSync(`${socket}.pid`, `${bystander.pid}\n`);
      sup = new DpSupervisor({ socket, netns: 'unused', bypassMap: 'unused', command: argv, keepaliveMs: 100 });
      sup.start();
      await waitFor('connected beside the bystander', () => sup!.status().state === 'connected');
      expect(bystander.exitCode === null && bystander.signalCode === null).toBe(true);
    } finally {
      orphan.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  });
});

describe.skipIf(!isRoot)('DP supervisor with the real mseg-dp', () => {
  const netns = `msat${randomBytes(3).toString('hex')}-dp`;
  beforeAll(() => sh(['ip', 'netns', 'add', netns]));
  afterAll(() => {
    try {
      sh(['ip', 'netns', 'del', netns]);
    } catch {
      // Not made: nothing to remove.
    }
  });

  it('starts it, keeps it alive with keepalives, and brings it back after SIGKILL', async () => {
    const socket = join(dir, 'dp.sock');
    const stats: unknown[] = [];
    // No map pinned there: the DP runs, copies stay unbypassed (it opens the map once pinned).
    sup = new DpSupervisor({ socket, netns, bypassMap: `/sys/fs/bpf/${netns}/bypass`, keepaliveMs: 200, onStats: (m) => stats.push(m) });
    sup.setPort(5, { workloadId: 'w1', macs: ['4e:65:75:56:00:05'], ips: ['10.0.0.2'] });
    sup.start();
    await waitFor('connected', () => sup!.status().state === 'connected', 15_000);
    const t0 = Date.now();
    await waitFor('keepalive answer', () => sup!.status().lastKeepalive > t0, 3000);
    sup.requestStats();
    await waitFor('stats', () => stats.length > 0, 3000);
    const first = sup.status().pid!;
    process.kill(first, 'SIGKILL');
    await waitFor('back', () => sup!.status().state === 'connected' && sup!.status().pid !== first, 15_000);
    const t1 = Date.now();
    await waitFor('keepalive answer after restart', () => sup!.status().lastKeepalive > t1, 3000);
    await sup.stop();
    expect(sup.status().state).toBe('stopped');
  });
});
