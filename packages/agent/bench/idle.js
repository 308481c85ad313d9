// 200 containers on the host: the real agent (own process, with its DP) and the controller;
// --containers N (default 200) busybox containers started --parallel at a time (default 4).
// Measures plumbing time per container (Docker start event's timestamp → the agent's tap done:
// veth pair, mirror program on both hooks), then the agent's and the DP's RSS and CPU at idle
// over --idle S seconds (default 60) once every tap is done, then cleanup: all containers removed
// (docker rm -f) → every tap deleted by the agent and no nv-in port left in the capture namespace.
import { spawn } from 'node:child_process';
import {
  cleanup, cpuSeconds, docker, flag, load, median, newRun, newestImage, pct, printTable, rssMiB, run, runBox, sleep, startAgent, startController,
  waitFor,
} from './harness.js';

const N = Math.round(flag('containers', 200));
const PARALLEL = Math.round(flag('parallel', 4));
const IDLE_S = flag('idle', 60);

const image = await newestImage('mseg-test/tiny');
const r = newRun('idle');
const loadBefore = load();
const rows = [];
let ctl;
let agent;
let events;
try {
  ctl = await startController(r.dir);
  agent = await startAgent({ grpc: ctl.grpc, dir: r.dir, prefix: r.prefix });
  const dp = await agent.dpPid();
  // The DP's ring and the agent's first controller exchange in place before the baseline.
  await sleep(5000);
  const baseRss = { agent: rssMiB(agent.proc.pid), dp: rssMiB(dp) };

  const starts = new Map();
  events = spawn('docker', ['events', '--filter', `label=mseg.bench=${r.prefix}`, '--filter', 'event=start', '--format', '{{json .}}']);
  let partial = '';
  events.stdout.on('data', (d) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line);
      starts.set(e.id, e.timeNano / 1e6);
    }
  });
  await sleep(500);

  const ids = [];
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < N) {
      const i = next++;
      ids.push(await runBox(r.prefix, image, `c${i}`, `${r.prefix}-idle`, ['sleep', '3600']));
    }
  }));
  const started = Date.now() - t0;
  await waitFor('every tap', () => ids.every((id) => agent.tapOf(id) && starts.has(id)), 300_000, 200).catch((e) => {
    throw new Error(`${e.message}: ${agent.taps.size} taps done, ${starts.size} start events of ${N}`);
  });
  const plumb = ids.map((id) => agent.taps.get(agent.tapOf(id)) - starts.get(id));
  rows.push([`${N} containers started (${PARALLEL} at a time)`, `${(started / 1000).toFixed(1)} s`, '']);
  rows.push(['start → tap in place, per container', `median ${median(plumb).toFixed(0)} ms, p90 ${pct(plumb, 90).toFixed(0)} ms, p99 ${pct(plumb, 99).toFixed(0)} ms, max ${Math.max(...plumb).toFixed(0)} ms`, '']);

  // Let the start burst's work (controller pushes, first reports) settle before sampling idle.
  await sleep(10_000);
  const loadIdle = load();
  const rss = { agent: [], dp: [] };
  const c0 = { agent: cpuSeconds(agent.proc.pid), dp: cpuSeconds(dp) };
  const w0 = performance.now();
  while (performance.now() - w0 < IDLE_S * 1000) {
    rss.agent.push(rssMiB(agent.proc.pid));
    rss.dp.push(rssMiB(dp));
    await sleep(5000);
  }
  const wall = (performance.now() - w0) / 1000;
  for (const who of ['agent', 'dp']) {
    const cpu = (100 * ((who === 'agent' ? cpuSeconds(agent.proc.pid) : cpuSeconds(dp)) - c0[who])) / wall;
    rows.push([
      `${who === 'agent' ? 'agent' : 'DP'} at idle with ${N} containers (${wall.toFixed(0)} s)`,
      `RSS median ${median(rss[who]).toFixed(0)} MiB (max ${Math.max(...rss[who]).toFixed(0)}; ${baseRss[who].toFixed(0)} with none), CPU ${cpu.toFixed(2)} % of one core`,
      '',
    ]);
  }
  rows.push(['load average while idle was sampled', loadIdle, '']);

  const c1 = Date.now();
  for (let i = 0; i < ids.length; i += 50) await docker('rm', '-f', ...ids.slice(i, i + 50));
  const removed = Date.now() - c1;
  const inPorts = async () => JSON.parse((await run('ip', ['-n', r.prefix, '-j', 'link'])).stdout).filter((l) => l.ifname.startsWith('nv-in')).length;
  await waitFor('every tap deleted', async () => ids.every((id) => agent.tapOf(id, agent.tapsDeleted)) && (await inPorts()) === 0, 300_000, 200);
  const lastDelete = Math.max(...ids.map((id) => agent.tapsDeleted.get(agent.tapOf(id, agent.tapsDeleted))));
  rows.push([`cleanup: docker rm -f of ${N} → every tap removed`, `${((lastDelete - c1) / 1000).toFixed(1)} s (docker rm -f itself ${(removed / 1000).toFixed(1)} s)`, '']);
} finally {
  events?.kill('SIGKILL');
  await cleanup({ ...r, ctl, agent });
}
printTable(`${N} containers (${image}; load average before ${loadBefore}, after ${load()})`, rows);
