// Capture rate benchmark: a C generator in one namespace sends small frames at a fixed rate over a
// veth pair into a namespace where the capture (unbound, as in mseg-dp) counts them from JS.
//
//   node packages/capture/bench/rate.mjs [--pps 500000] [--seconds 5] [--len 60]
//        [--mode watch|worker] [--block-size 1048576] [--block-count 64] [--snap 4096]
//
// watch: the consumer runs on the main event loop, woken by uv_poll. worker: a worker thread
// blocks in next(timeout). Prints one JSON line: generator, capture and kernel counters, CPU use.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Capture, FRAME_WIRELEN, FRAME_WORDS } from '../index.js';

/** Counts frames and bytes of one batch, reading every frame's index entry as a real consumer would. */
function consume(batch, totals) {
  const idx = batch.index;
  let bytes = 0;
  for (let i = 0, w = 0; i < batch.count; i++, w += FRAME_WORDS) bytes += idx[w + FRAME_WIRELEN];
  totals.frames += batch.count;
  totals.bytes += bytes;
  totals.batches++;
}

function drain(cap, totals) {
  for (let b = cap.next(); b !== null; b = cap.next()) {
    consume(b, totals);
    cap.release();
  }
}

if (!isMainThread) {
  // Worker mode: block in next() until the main thread raises the stop flag, then report.
  const { options, stop } = workerData;
  const flag = new Int32Array(stop);
  const cap = new Capture(options);
  const totals = { frames: 0, bytes: 0, batches: 0 };
  const cpu0 = process.cpuUsage();
  parentPort.postMessage({ ready: true });
  while (Atomics.load(flag, 0) === 0) {
    const b = cap.next(50);
    if (b !== null) {
      consume(b, totals);
      cap.release();
    }
  }
  drain(cap, totals);
  const stats = cap.stats();
  cap.close();
  parentPort.postMessage({ totals, stats, cpu: process.cpuUsage(cpu0) });
} else {
  await main();
}

function cpuTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: f[0] + f[1], system: f[2], irq: f[4 + 1], softirq: f[6], idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      pps: { type: 'string', default: '500000' },
      seconds: { type: 'string', default: '5' },
      len: { type: 'string', default: '60' },
      mode: { type: 'string', default: 'watch' },
      'block-size': { type: 'string', default: String(1 << 20) },
      'block-count': { type: 'string', default: '64' },
      snap: { type: 'string', default: '4096' },
    },
  });
  const pps = Number(a.pps), seconds = Number(a.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be in (0, 60]');
  if (a.mode !== 'watch' && a.mode !== 'worker') throw new Error('--mode is watch or worker');

  const prefix = `mcapb${randomBytes(3).toString('hex')}`;
  const capNs = `${prefix}-cap`, genNs = `${prefix}-gen`, capIf = `${prefix}c`, genIf = `${prefix}g`;
  const dir = mkdtempSync(join(tmpdir(), 'mseg-capture-bench-'));
  const cleanup = () => {
    for (const ns of [capNs, genNs]) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not created */ }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const gen = join(dir, 'gen');
    execFileSync('gcc', ['-O2', '-o', gen, new URL('./gen.c', import.meta.url).pathname]);
    const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    ip('netns', 'add', capNs);
    ip('netns', 'add', genNs);
    ip('link', 'add', capIf, 'netns', capNs, 'type', 'veth', 'peer', 'name', genIf, 'netns', genNs);
    for (const [ns, dev] of [[capNs, capIf], [genNs, genIf]]) {
      ip('netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6`);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    const options = {
      netns: capNs,
      snapLen: Number(a.snap),
      blockSize: Number(a['block-size']),
      blockCount: Number(a['block-count']),
    };

    const totals = { frames: 0, bytes: 0, batches: 0 };
    let finish;
    if (a.mode === 'watch') {
      const cap = new Capture(options);
      const cpu0 = process.cpuUsage();
      cap.watch((err) => {
        if (err) throw err;
        drain(cap, totals);
      });
      finish = async () => {
        await new Promise((r) => setTimeout(r, 200)); // blocks retire within blockTimeoutMs (10 ms)
        cap.unwatch();
        drain(cap, totals);
        const stats = cap.stats();
        cap.close();
        return { totals, stats, cpu: process.cpuUsage(cpu0) };
      };
    } else {
      const stop = new SharedArrayBuffer(4);
      const worker = new Worker(new URL(import.meta.url), { workerData: { options, stop } });
      const result = new Promise((resolve, reject) => {
        worker.on('message', (m) => { if (!m.ready) resolve(m); });
        worker.once('error', reject);
      });
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      finish = async () => {
        await new Promise((r) => setTimeout(r, 200));
        Atomics.store(new Int32Array(stop), 0, 1);
        const r = await result;
        await worker.terminate();
        return r;
      };
    }

    const ticks0 = cpuTicks();
    const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', genNs, gen, genIf, String(pps), String(seconds), a.len], {
      timeout: (seconds * 2 + 10) * 1000,
    });
    const ticks1 = cpuTicks();
    const generator = JSON.parse(stdout);
    const { totals: t, stats, cpu } = await finish();
    const [link] = JSON.parse(execFileSync('ip', ['-n', capNs, '-s', '-j', 'link', 'show', capIf], { encoding: 'utf8' }));
    const share = (k) => Math.round((100 * (ticks1[k] - ticks0[k])) / (ticks1.total - ticks0.total));
    console.log(JSON.stringify({
      mode: a.mode,
      frameLen: Number(a.len),
      ring: `${options.blockCount} x ${options.blockSize} B, snap ${options.snapLen}`,
      generator,
      captured: { frames: t.frames, batches: t.batches, framesPerBatch: Math.round(t.frames / Math.max(1, t.batches)), pps: Math.round(t.frames / generator.seconds) },
      kernel: stats,
      vethRx: { packets: link.stats64.rx.packets, dropped: link.stats64.rx.dropped },
      consumerCpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
      machineCpuPercent: { user: share('user'), system: share('system'), softirq: share('softirq'), idle: share('idle') },
    }));
  } finally {
    cleanup();
  }
}
