// npm run bench:agent — the agent on the real dockerd with the real controller and DP:
//  1. Docker start event → mirror in place, and → Protect table in place, over N containers
//     (median, p99; targets 100 ms / 250 ms). The start event's own timestamp (timeNano) is the
//     zero; "in place" is the reconciler's done status (the kernel objects were written and read).
//     The first Protect table may be the provisional one (enforce/provisional.ts); the time until
//     the controller's own rule set for the container is in the kernel is shown apart.
//  2. Cost of the mirror on container traffic: iperf3 throughput and redis PING round trips
//     between two containers with and without the mirror, in the same run.
// Flags: --containers N (default 50). Uses the mseg-test/web image of the agent's tests.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const { Agent } = await import(join(here, '../dist/agent.js'));

const argN = process.argv.indexOf('--containers');
const N = argN > 0 ? Number(process.argv[argN + 1]) : 50;
const prefix = `mseg-b-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'mseg-bench-agent-'));
const docker = async (...args) => (await run('docker', args, { timeout: 120_000, maxBuffer: 64 << 20 })).stdout.trim();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));

await docker('info', '--format', '{{.ServerVersion}}').catch(() => {
  throw new Error('no Docker engine answers on /var/run/docker.sock (start dockerd; the agent tests start one)');
});
// docker lists the newest image first: the one the current recipe built (with iperf3).
const image = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}', 'mseg-test/web')).split('\n').filter(Boolean)[0];
if (!image) throw new Error('mseg-test/web image missing: run the agent tests once (npm test) to build it');

// Controller process on free ports.
const ctl = spawn(process.execPath, [join(here, '../../controller/dist/main.js'), '--no-tls', '--host', '127.0.0.1', '--api-port', '0', '--grpc-port', '0', '--data-dir', join(dir, 'ctl')], {
  env: { ...process.env, MSEG_JOIN_TOKEN: 'bench', MSEG_ADMIN_PASSWORD: 'bench-pw' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let ctlOut = '';
const ready = await new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`controller did not start:\n${ctlOut}`)), 30_000);
  ctl.stdout.on('data', (d) => {
    ctlOut += d;
    const m = /REST API on (http:\/\/\S+?)\/api\/v1 .*gRPC for agents on \S+:(\d+)/.exec(ctlOut);
    if (m) {
      clearTimeout(t);
      resolve({ api: m[1], grpc: Number(m[2]) });
    }
  });
});
const login = await (await fetch(`${ready.api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-pw' }) })).json();
const rest = async (method, path, body) => {
  const r = await fetch(`${ready.api}${path}`, { method, headers: { authorization: `Bearer ${login.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, json: await r.json().catch(() => undefined) };
};

// The agent in this process, watching only this run's containers.
const tapDone = new Map();
const protectDone = new Map();
const ruleSetDone = new Map();
const provisionalFirst = new Set();
const agent = new Agent(
  { controllerUrl: `http://127.0.0.1:${ready.grpc}`, joinToken: 'bench', dockerSocket: '/var/run/docker.sock', dpSocket: join(dir, 'dp.sock'), dataDir: join(dir, 'agent'), captureNetns: prefix, onlyLabel: { key: 'mseg.bench', value: prefix } },
  () => {},
  {
    onTap: (s) => s.kind === 'done' && !tapDone.has(s.key) && tapDone.set(s.key, Date.now()),
    onProtect: (s) => s.kind === 'done' && !protectDone.has(s.key) && protectDone.set(s.key, Date.now()),
    onProtectApplied: (id, provisional) => {
      if (provisional && !ruleSetDone.has(id)) provisionalFirst.add(id);
      if (!provisional && !ruleSetDone.has(id)) ruleSetDone.set(id, Date.now());
    },
  },
);
await agent.start();

const starts = new Map();
const events = spawn('docker', ['events', '--filter', `label=mseg.bench=${prefix}`, '--filter', 'event=start', '--format', '{{json .}}']);
events.stdout.on('data', (d) => {
  for (const line of d.toString().split('\n').filter(Boolean)) {
    const e = JSON.parse(line);
    starts.set(e.id, e.timeNano / 1e6);
  }
});

const waitFor = async (what, probe, ms = 60_000) => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const runBox = (name, service, cmd, monitored = true) =>
  docker('run', '-d', '--name', `${prefix}-${name}`, '--label', `mseg.cleanup=${prefix}`, ...(monitored ? ['--label', `mseg.bench=${prefix}`] : []), '--label', `mseg.service=${service}`, image, ...cmd);
const ipOf = async (id) => docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', id);

const rows = [];
try {
  // Protect for the service before its containers start: a warm-up member makes the group.
  const svc = `${prefix}-p`;
  await runBox('warm', svc, ['sleep', '3600']);
  await waitFor('service group', async () => (await rest('GET', `/api/v1/groups/svc.${svc}`)).status === 200);
  await rest('POST', '/api/v1/policies', { from: 'containers', to: `svc.${svc}`, ports: 'tcp/80', action: 'allow' });
  await rest('PATCH', `/api/v1/groups/svc.${svc}`, { mode: 'protect' });

  const ids = [];
  for (let i = 0; i < N; i++) ids.push(await runBox(`c${i}`, svc, ['sleep', '3600']));
  // nv-in-<id prefix><ifindex>: the id part is at least 5 characters (see plumbing/names.ts).
  const short = (id) => `nv-in-${id.slice(0, 5)}`;
  const mirror = [];
  const table = [];
  const ruleSet = [];
  await waitFor('every mirror and table', () => ids.every((id) => [...tapDone.keys()].some((k) => k.startsWith(short(id))) && protectDone.has(id) && ruleSetDone.has(id)), 120_000).catch((e) => {
    throw new Error(`${e.message}: ${tapDone.size} taps, ${protectDone.size} tables, ${ruleSetDone.size} controller rule sets done of ${ids.length}`);
  });
  for (const id of ids) {
    const t0 = starts.get(id);
    const tap = [...tapDone].find(([k]) => k.startsWith(short(id)))[1];
    mirror.push(tap - t0);
    table.push(protectDone.get(id) - t0);
    ruleSet.push(ruleSetDone.get(id) - t0);
  }
  const early = ids.filter((id) => provisionalFirst.has(id)).length;
  rows.push([`start → mirror in place (${N} containers)`, `median ${fmt(pct(mirror, 50))} ms, p99 ${fmt(pct(mirror, 99))} ms`, '≤ 100 / ≤ 250 ms']);
  rows.push([`start → Protect table in place (${N} containers; ${early} provisional first)`, `median ${fmt(pct(table, 50))} ms, p99 ${fmt(pct(table, 99))} ms`, '≤ 100 / ≤ 250 ms']);
  rows.push([`start → controller's rule set in place (${N} containers)`, `median ${fmt(pct(ruleSet, 50))} ms, p99 ${fmt(pct(ruleSet, 99))} ms`, '']);
  for (const id of ids) await docker('rm', '-f', id);

  // Mirror cost: the same pair of images, mirrored (the agent watches them) and not.
  const pair = async (monitored, tag) => {
    const s = await runBox(`srv-${tag}`, `${prefix}-s`, ['bash', '-c', 'iperf3 -s -D; exec redis-server --protected-mode no'], monitored);
    const c = await runBox(`cli-${tag}`, `${prefix}-c`, ['sleep', '3600'], monitored);
    return { s, c, ip: await ipOf(s) };
  };
  const plain = await pair(false, 'plain');
  const mirrored = await pair(true, 'mirror');
  await waitFor('mirrored pair plumbed', () => [mirrored.s, mirrored.c].every((id) => [...tapDone.keys()].some((k) => k.startsWith(short(id)))));
  const measure = async (p) => {
    await new Promise((r) => setTimeout(r, 500));
    const ip3 = JSON.parse(await docker('exec', p.c, 'iperf3', '-c', p.ip, '-t', '5', '-J'));
    const gbps = ip3.end.sum_received.bits_per_second / 1e9;
    const rb = await docker('exec', p.c, 'redis-benchmark', '-h', p.ip, '-n', '20000', '-c', '1', '-t', 'ping_mbulk', '--csv');
    const line = rb.split('\n').find((l) => l.includes('PING'));
    const cols = line.split(',').map((x) => Number(x.replace(/"/g, '')));
    return { gbps, rps: cols[1], p50: cols[4] };
  };
  const a = await measure(plain);
  const b = await measure(mirrored);
  const a2 = await measure(plain);
  const base = { gbps: (a.gbps + a2.gbps) / 2, rps: (a.rps + a2.rps) / 2, p50: (a.p50 + a2.p50) / 2 };
  rows.push(['iperf3 throughput, no mirror / mirror', `${base.gbps.toFixed(2)} / ${b.gbps.toFixed(2)} Gbit/s (${(100 * (1 - b.gbps / base.gbps)).toFixed(1)} % loss)`, '≤ 10 % loss']);
  rows.push(['redis PING round trip p50, no mirror / mirror', `${base.p50.toFixed(3)} / ${b.p50.toFixed(3)} ms (${base.rps.toFixed(0)} / ${b.rps.toFixed(0)} req/s)`, '']);
} finally {
  events.kill('SIGKILL');
  await agent.stop();
  const left = (await docker('ps', '-aq', '--filter', `label=mseg.cleanup=${prefix}`)).split('\n').filter(Boolean);
  if (left.length) await docker('rm', '-f', ...left);
  await run('ip', ['netns', 'del', prefix]).catch(() => {});
  ctl.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 10));
console.log(`\nAgent benchmark (${N} containers, ${image})`);
for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2]}`);
