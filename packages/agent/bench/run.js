// npm run bench:agent — the agent on the real dockerd with the real controller and DP:
// Docker start event → mirror in place, and → Protect table in place, over N containers (median,
// p99; targets 100 ms / 250 ms). The start event's own timestamp (timeNano) is the zero; "in
// place" is the reconciler's done status (the kernel objects were written and read). The first
// Protect table may be the provisional one (enforce/provisional.ts); the time until the
// controller's own rule set for the container is in the kernel is shown apart. The agent runs in
// this process, for its per-object status callbacks. The mirror's cost, Protect with 10,000 peers
// and 200 idle containers are mirror.js, peers.js and idle.js.
// Flags: --containers N (default 50). Uses the mseg-test/web image of the agent's tests.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanup, docker, flag, here, newestImage, newRun, pct, printTable, runBox, startController, waitFor } from './harness.js';

const { Agent } = await import(join(here, '../dist/agent.js'));

const N = flag('containers', 50);
const { prefix, dir } = newRun('b');
const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
const image = await newestImage('mseg-test/web');
const ctl = await startController(dir);
const { rest } = ctl;

// The agent in this process, watching only this run's containers.
const tapDone = new Map();
const protectDone = new Map();
const ruleSetDone = new Map();
const provisionalFirst = new Set();
const agent = new Agent(
  { controllerUrl: `http://127.0.0.1:${ctl.grpc}`, joinToken: 'bench', dockerSocket: '/var/run/docker.sock', dpSocket: join(dir, 'dp.sock'), dataDir: join(dir, 'agent'), captureNetns: prefix, onlyLabel: { key: 'mseg.bench', value: prefix } },
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

const rows = [];
try {
  // Protect for the service before its containers start: a warm-up member makes the group.
  const svc = `${prefix}-p`;
  await runBox(prefix, image, 'warm', svc, ['sleep', '3600']);
  await waitFor('service group', async () => (await rest('GET', `/api/v1/groups/svc.${svc}`)).status === 200);
  await rest('POST', '/api/v1/policies', { from: 'containers', to: `svc.${svc}`, ports: 'tcp/80', action: 'allow' });
  await rest('PATCH', `/api/v1/groups/svc.${svc}`, { mode: 'protect' });

  const ids = [];
  for (let i = 0; i < N; i++) ids.push(await runBox(prefix, image, `c${i}`, svc, ['sleep', '3600']));
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
} finally {
  events.kill('SIGKILL');
  await cleanup({ prefix, dir, ctl, agent });
}

printTable(`Agent benchmark (${N} containers, ${image})`, rows);
