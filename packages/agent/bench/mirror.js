// Cost of the mirror on container traffic, and where it is: two container pairs (iperf3 + redis),
// one unmirrored and one mirrored by the real agent, measured in turns over --rounds rounds (the
// order rotates each round). A third configuration pauses the DP (SIGSTOP, iperf3 only, shorter
// than the agent's 6 s keepalive limit) so the kernel's share (the mirror program's clone, veth,
// ring copy until the ring is full) shows apart from the DP's. Per configuration: throughput, redis PING
// p50, the DP's CPU and the host's softirq time while iperf3 runs.
// iperf3 between two containers is CPU-bound here and moves by ±20 % between rounds whatever the
// mirror does, so the headline is the loss within each round (against the plain pair measured next
// to it), as the median over many short rounds, with its min–max.
// Flags: --rounds N (default 12), --seconds S (iperf3 length, default 3).
import {
  cleanup, cpuSeconds, flag, hostCpu, run, load, measurePair, median, newRun, newestImage, printTable, serverClientPair, spread, startAgent,
  startController, waitFor,
} from './harness.js';

const ROUNDS = Math.round(flag('rounds', 12));
const SECONDS = flag('seconds', 3);
const PINGS = 10000;
const PAUSED_SECONDS = 3;

const image = await newestImage('mseg-test/web');
const r = newRun('mir');
const loadBefore = load();
let ctl;
let agent;
const results = { plain: [], mirror: [], paused: [] };
try {
  ctl = await startController(r.dir);
  agent = await startAgent({ grpc: ctl.grpc, dir: r.dir, prefix: r.prefix });
  const plain = await serverClientPair(r.prefix, image, 'plain', false);
  const mirrored = await serverClientPair(r.prefix, image, 'mirror', true);
  await waitFor('mirrored pair plumbed', () => agent.tapOf(mirrored.s) && agent.tapOf(mirrored.c));
  const dp = await agent.dpPid();

  // Frames the mirror delivered: what the taps' nv-in ends received in the capture namespace.
  const mirroredFrames = async () => JSON.parse((await run('ip', ['-n', r.prefix, '-j', '-s', 'link'])).stdout)
    .filter((l) => l.ifname.startsWith('nv-in')).reduce((n, l) => n + l.stats64.rx.packets, 0);
  // CPU of the DP and the host while `fn` runs, as % of one core; the DP's CPU per mirrored frame.
  const sampled = async (fn) => {
    const f0 = await mirroredFrames();
    const d0 = cpuSeconds(dp);
    const h0 = hostCpu();
    const t0 = performance.now();
    const out = await fn();
    const wall = (performance.now() - t0) / 1000;
    const h1 = hostCpu();
    const dpSeconds = cpuSeconds(dp) - d0;
    const frames = (await mirroredFrames()) - f0;
    return {
      ...out, dpCpu: (100 * dpSeconds) / wall, dpUsPerFrame: frames > 1000 ? (1e6 * dpSeconds) / frames : NaN, kfps: frames / wall / 1000,
      softirq: (100 * (h1.softirq - h0.softirq)) / wall, system: (100 * (h1.system - h0.system)) / wall,
    };
  };
  const configs = {
    plain: () => sampled(() => measurePair(plain, SECONDS, PINGS)),
    mirror: () => sampled(() => measurePair(mirrored, SECONDS, PINGS)),
    paused: async () => {
      process.kill(dp, 'SIGSTOP');
      try {
        return await sampled(() => measurePair(mirrored, PAUSED_SECONDS, 0));
      } finally {
        process.kill(dp, 'SIGCONT');
      }
    },
  };
  const names = Object.keys(configs);
  for (let i = 0; i < ROUNDS; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      // Let the ring drain and the paused DP catch up before the next measure.
      await new Promise((res) => setTimeout(res, 1500));
      results[name].push(await configs[name]());
    }
    process.stderr.write(`round ${i + 1}/${ROUNDS}: ${names.map((n) => `${n} ${results[n][i].gbps.toFixed(2)}`).join(', ')} Gbit/s\n`);
  }
} finally {
  await cleanup({ ...r, ctl, agent });
}

const col = (name, key, digits) => spread(results[name].map((x) => x[key]), digits);
const loss = (name) => (100 * (1 - median(results[name].map((x) => x.gbps)) / median(results.plain.map((x) => x.gbps)))).toFixed(1);
// Loss within each round (against the plain pair measured next to it), so slow drifts of the
// host's load cancel out.
const paired = (name) => results[name].map((m, i) => 100 * (1 - m.gbps / results.plain[i].gbps));
const rows = [
  ['configuration', 'iperf3 Gbit/s median (min–max)', 'PING p50 ms | DP CPU % | DP µs/frame | mirrored kframes/s | softirq % | system %'],
  ...['plain', 'mirror', 'paused'].map((name) => [
    { plain: 'no mirror', mirror: `mirror (loss of medians ${loss('mirror')} %)`, paused: `mirror, DP paused (loss of medians ${loss('paused')} %; per round ${spread(paired('paused'), 1)} %)` }[name],
    col(name, 'gbps'),
    [name === 'paused' ? '-' : col(name, 'p50', 3), col(name, 'dpCpu', 0), name === 'mirror' ? col(name, 'dpUsPerFrame') : '-', col(name, 'kfps', 0), col(name, 'softirq', 0), col(name, 'system', 0)].join(' | '),
  ]),
];
printTable(`Mirror cost (${ROUNDS} rounds, iperf3 ${SECONDS} s, ${image}; load average before ${loadBefore}, after ${load()})`, rows);
console.log(`\nthroughput loss with the mirror, per round (median (min–max) of ${ROUNDS}): ${spread(paired('mirror'), 1)} %`);
