/**
 * `npm run bench:controller`: the controller under agent load, and the policy compile.
 *
 * 1. Starts the built controller (dist/main.js) as its own process on a fresh data dir (SQLite,
 *    or `--db postgres://…`), and the simulated agents (agents.js) as another process: 500 real
 *    gRPC clients with 20 workloads each (10,000 workloads).
 * 2. Paced ingest: every agent reports ~200 connection records every 5 s (its timer offset over
 *    the interval, as agents start at different times), for --rounds intervals. Kept pace = no
 *    report due while the agent's previous one was still unanswered.
 * 3. Flood: every agent sends its next report as soon as the last is answered, for
 *    --flood-seconds: the sustained ingest rate (records acknowledged, i.e. committed, per second).
 *    A report is answered once the transaction that wrote it into the tables REST reads from
 *    committed, so what is acknowledged is visible: ingest has no backlog that could lag behind.
 * 4. During both, one REST client (a UI user) loops over `GET /graph?level=group` (rolled up),
 *    `GET /graph` (auto level) and `GET /connections?limit=100`; latencies per endpoint and phase.
 *    The controller's RSS is sampled every 500 ms from /proc.
 * 5. Compile: 10,000 workloads × 2,000 rules through the policy compile benchmark hook
 *    (policy/compile-bench.ts: membership snapshot + per-workload compile + fingerprints), 3 runs.
 *
 * Options: --db URL, --agents N (500), --workloads-per-agent N (20), --egress N (5: calls per
 * workload, so ~2×20×5 = 200 records per report), --rounds N (12), --interval-ms N (5000),
 * --flood-seconds N (30), --skip-ingest, --skip-compile, --no-reads (ingest without the REST reader), --profile (CPU profile of the controller
 * over the whole ingest run; prints its top self-time functions).
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topSelfTime } from '../../dp/bench/profile-top.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'dist', 'main.js');
const PASSWORD = 'bench-admin-password';
const JOIN_TOKEN = 'bench-join-token';

const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  if (typeof dflt === 'number') {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
    return n;
  }
  return v;
}
const o = {
  db: opt('db', undefined),
  agents: opt('agents', 500),
  perAgent: opt('workloads-per-agent', 20),
  egress: opt('egress', 5),
  rounds: opt('rounds', 12),
  intervalMs: opt('interval-ms', 5000),
  floodSeconds: opt('flood-seconds', 30),
  skipIngest: argv.includes('--skip-ingest'),
  skipCompile: argv.includes('--skip-compile'),
  profile: argv.includes('--profile'),
  reads: !argv.includes('--no-reads'),
};
const log = (s) => process.stderr.write(`bench:controller: ${s}\n`);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

function startController(dataDir, nodeArgs) {
  const args = [...nodeArgs, MAIN, '--no-tls', '--host', '127.0.0.1', '--api-port', '0', '--grpc-port', '0', '--data-dir', dataDir];
  if (o.db) args.push('--db', o.db);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MSEG_ADMIN_PASSWORD: PASSWORD, MSEG_JOIN_TOKEN: JOIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`controller exited (${code}):\n${out}`));
    child.once('exit', onExit);
    const check = () => {
      const m = /REST API on (http:\/\/\S+?)\/api\/v1 .*gRPC for agents on \S+:(\d+)/.exec(out);
      if (!m) return;
      child.stdout.off('data', check);
      child.off('exit', onExit);
      resolve({ child, apiUrl: m[1], grpcPort: Number(m[2]), output: () => out });
    };
    child.stdout.on('data', check);
  });
}

async function rest(apiUrl) {
  const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = await login.json();
  return async (method, path, body) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** The UI user: one request at a time over the three reads, until stopped. */
function queryLoop(api) {
  const lat = { graphGroup: [], graphAuto: [], connections: [] };
  const shapes = { graphGroup: null, graphAuto: null, connections: null };
  let stop = false;
  const paths = [
    ['graphGroup', '/api/v1/graph?level=group'],
    ['graphAuto', '/api/v1/graph'],
    ['connections', '/api/v1/connections?limit=100'],
  ];
  const done = (async () => {
    while (!stop && o.reads) {
      for (const [k, p] of paths) {
        const t = performance.now();
        const r = await api('GET', p);
        lat[k].push(performance.now() - t);
        shapes[k] = r.nodes ? { level: r.level, nodes: r.nodes.length, edges: r.edges.length } : { items: r.items?.length, total: r.total };
      }
    }
  })();
  return {
    async finish() {
      stop = true;
      await done;
      const out = {};
      for (const k of Object.keys(lat)) {
        const s = lat[k].sort((x, y) => x - y);
        out[k] = { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), shape: shapes[k] };
      }
      return out;
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + system) the process has used so far: fields 14 and 15 of /proc/PID/stat. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** RSS every 500 ms, and the CPU time the process spent between start and stop. */
function rssSampler(pid) {
  const cpu0 = cpuSeconds(pid);
  let max = 0;
  let last = 0;
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        last = Number(m[1]) * 1024;
        max = Math.max(max, last);
      }
    } catch {
      // The process is gone; keep the last figures.
    }
  };
  read();
  const timer = setInterval(read, 500);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { max, last, cpu: cpuSeconds(pid) - cpu0 };
    },
  };
}

function agentsProcess() {
  const child = fork(join(here, 'agents.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const call = (msg) =>
    new Promise((resolve, reject) => {
      const on = (r) => {
        if (r.done !== msg.cmd) return;
        child.off('message', on);
        if (r.error) reject(new Error(`agents: ${r.error}`));
        else resolve(r);
      };
      child.on('message', on);
      child.send(msg);
    });
  return { child, call };
}

async function ingestBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mseg-bench-ctl-'));
  const profDir = join(dataDir, 'profile');
  const ctl = await startController(dataDir, o.profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []);
  const agents = agentsProcess();
  try {
    log(`controller pid ${ctl.child.pid} on ${ctl.apiUrl}, gRPC :${ctl.grpcPort}, store ${o.db ? 'PostgreSQL' : 'SQLite'}`);
    const api = await rest(ctl.apiUrl);
    const rule = await api('POST', '/api/v1/policies', { from: 'containers', to: 'containers', ports: 'any', action: 'allow' });
    const rss = rssSampler(ctl.child.pid);
    const idleRss = rss.stop().last;
    log(`setup: ${o.agents} agents × ${o.perAgent} workloads registering over gRPC`);
    const setup = await agents.call({ cmd: 'setup', grpcPort: ctl.grpcPort, joinToken: JOIN_TOKEN, agents: o.agents, perAgent: o.perAgent, egress: o.egress, ruleId: rule.id });
    log(`setup done in ${fmt(setup.setupMs / 1000, 1)} s; ${fmt(setup.records)} records per round (${setup.minPerReport}-${setup.maxPerReport} per report)`);

    const rssPaced = rssSampler(ctl.child.pid);
    const qPaced = queryLoop(api);
    log(`paced: ${o.rounds} rounds of ${o.intervalMs} ms`);
    const paced = await agents.call({ cmd: 'paced', rounds: o.rounds, intervalMs: o.intervalMs });
    const qp = await qPaced.finish();
    const rp = rssPaced.stop();

    const rssFlood = rssSampler(ctl.child.pid);
    const agentsFlood = rssSampler(agents.child.pid);
    const qFlood = queryLoop(api);
    log(`flood: ${o.floodSeconds} s`);
    const flood = await agents.call({ cmd: 'flood', seconds: o.floodSeconds });
    const qf = await qFlood.finish();
    const rf = rssFlood.stop();
    const af = agentsFlood.stop();
    return { setup, paced, flood, qp, qf, idleRss, rp, rf, af };
  } finally {
    agents.child.kill('SIGKILL');
    ctl.child.kill('SIGTERM');
    await new Promise((r) => (ctl.child.exitCode !== null ? r() : ctl.child.once('exit', r)));
    if (o.profile) {
      // Written by the controller as it exits after SIGTERM.
      for (const f of readdirSync(profDir)) {
        log(`controller CPU profile, top self time (${f}):`);
        for (const t of topSelfTime(JSON.parse(readFileSync(join(profDir, f), 'utf8')), 20)) log(`  ${t.percent.toFixed(1).padStart(5)} %  ${t.name}  ${t.where}`);
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function compileBench() {
  const { benchCompile } = await import('../dist/policy/compile-bench.js');
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(benchCompile({ workloads: 10_000, rules: 2_000, seed: 42 }));
    log(`compile run ${i + 1}: ${fmt(runs.at(-1).totalMs)} ms`);
  }
  return runs;
}

const mib = (b) => `${fmt(b / 1048576)} MiB`;
const ms = (x) => `${fmt(x, x < 10 ? 1 : 0)} ms`;

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const loadAtStart = load();
log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${mib(totalmem())}, load ${loadAtStart}, Node ${process.version}`);
const rows = [['Load average (1, 5, 15 min)', `${loadAtStart} at the start`]];
if (!o.skipIngest) {
  const r = await ingestBench();
  const pacedRate = r.paced.records / r.paced.seconds;
  const floodRate = r.flood.records / r.flood.seconds;
  rows.push(['Store', o.db ? 'PostgreSQL' : 'SQLite (WAL)']);
  rows.push(['Agents × workloads', `${fmt(o.agents)} × ${o.perAgent} = ${fmt(o.agents * o.perAgent)} (setup over gRPC ${fmt(r.setup.setupMs / 1000, 1)} s)`]);
  rows.push(['Records per 5 s round', `${fmt(r.setup.records)} (${r.setup.minPerReport}–${r.setup.maxPerReport} per report)`]);
  rows.push(['Paced ingest', `${fmt(pacedRate)} records/s offered and acknowledged over ${fmt(r.paced.seconds, 1)} s; report latency p50 ${ms(r.paced.p50)}, p99 ${ms(r.paced.p99)}, max ${ms(r.paced.max)}`]);
  rows.push(['Kept pace', r.paced.late === 0 ? `yes (0 of ${fmt(r.paced.reports)} reports due while the previous was unanswered)` : `NO: ${fmt(r.paced.late)} of ${fmt(r.paced.reports)} reports due late`]);
  rows.push(['**Sustained ingest (flood)**', `**${fmt(floodRate)} records/s** (${fmt(r.flood.records)} records in ${fmt(r.flood.seconds, 1)} s; report latency p50 ${ms(r.flood.p50)}, p99 ${ms(r.flood.p99)})`]);
  rows.push(['CPU during the flood', `controller ${fmt(r.rf.cpu, 1)} s (${fmt(r.rf.cpu / r.flood.seconds, 2)} cores; **${fmt(r.flood.records / r.rf.cpu)} records per controller CPU-second**), agents process ${fmt(r.af.cpu, 1)} s`]);
  for (const [phase, q] of o.reads ? [['paced', r.qp], ['flood', r.qf]] : []) {
    const g = q.graphGroup;
    rows.push([`GET /graph?level=group (${phase})`, `p50 ${ms(g.p50)}, **p99 ${ms(g.p99)}** (${g.n} requests; ${g.shape.nodes} nodes, ${g.shape.edges} edges)`]);
    const a = q.graphAuto;
    rows.push([`GET /graph (auto → ${a.shape.level}, ${phase})`, `p50 ${ms(a.p50)}, p99 ${ms(a.p99)} (${a.n} requests; ${a.shape.nodes} nodes, ${a.shape.edges} edges)`]);
    const c = q.connections;
    rows.push([`GET /connections?limit=100 (${phase})`, `p50 ${ms(c.p50)}, p99 ${ms(c.p99)} (${c.n} requests)`]);
  }
  rows.push(['Controller RSS', `idle ${mib(r.idleRss)}; max ${mib(r.rp.max)} paced, ${mib(r.rf.max)} flood`]);
}
if (!o.skipCompile) {
  const runs = await compileBench();
  const totals = runs.map((x) => x.totalMs);
  const med = [...totals].sort((a, b) => a - b)[1];
  const first = runs[0];
  rows.push(['**Compile 10,000 workloads × 2,000 rules**', `**${ms(med)}** median of 3 (first ${ms(first.totalMs)}: snapshot ${ms(first.snapshotMs)}, compile ${ms(first.compileMs)}, fingerprints ${ms(first.fingerprintMs)}; ${fmt(first.groups)} groups, ${fmt(first.specs)} rule specs)`]);
}
rows[0][1] += `, ${load()} at the end`;
process.stdout.write(`\n| Measure | Result |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
