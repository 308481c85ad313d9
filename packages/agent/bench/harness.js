// What the agent's benches share: Docker and container helpers, the real controller process, the
// real agent in a process of its own (agent-child.js) with its DP, statistics, per-process CPU and
// memory from /proc, and the cleanup of everything a run made (containers by label, the capture
// namespace and its pinned bypass map, the scratch directory, the processes).
import { execFile, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const here = dirname(fileURLToPath(import.meta.url));
const { inName, pinDir } = await import(join(here, '../dist/plumbing/names.js'));
export const run = promisify(execFile);

export const docker = async (...args) => (await run('docker', args, { timeout: 120_000, maxBuffer: 64 << 20 })).stdout.trim();

export function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got "${process.argv[i + 1]}"`);
  return v;
}

/** The newest image of a repository (docker lists the newest first: the current recipe's). */
export async function newestImage(repo) {
  await docker('info', '--format', '{{.ServerVersion}}').catch(() => {
    throw new Error('no Docker engine answers on /var/run/docker.sock');
  });
  const image = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}', repo)).split('\n').filter(Boolean)[0];
  if (!image) throw new Error(`${repo} image missing: run the agent tests once (npm test) to build it`);
  return image;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, probe, ms = 60_000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

export const sorted = (xs) => [...xs].sort((a, b) => a - b);
export const pct = (xs, p) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const median = (xs) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** `median (min–max)` with `digits` decimals. */
export const spread = (xs, digits = 2) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

const CLK_TCK = 100;
/** User + system CPU seconds a process used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
/** Resident set size in MiB. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** Host CPU seconds by kind since boot, summed over CPUs (/proc/stat: user … softirq). */
export function hostCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: (f[0] + f[1]) / CLK_TCK, system: f[2] / CLK_TCK, idle: (f[3] + f[4]) / CLK_TCK, softirq: (f[5] + f[6]) / CLK_TCK };
}

export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Everything one bench run makes is named or labelled with this prefix. */
export function newRun(tag) {
  return { prefix: `mseg-${tag}-${randomBytes(3).toString('hex')}`, dir: mkdtempSync(join(tmpdir(), `mseg-bench-${tag}-`)) };
}

/** The controller process on free ports, logged in as admin; `rest(method, path, body)`. */
export async function startController(dir) {
  const proc = spawn(process.execPath, [join(here, '../../controller/dist/main.js'), '--no-tls', '--host', '127.0.0.1', '--api-port', '0', '--grpc-port', '0', '--data-dir', join(dir, 'ctl')], {
    env: { ...process.env, MSEG_JOIN_TOKEN: 'bench', MSEG_ADMIN_PASSWORD: 'bench-pw' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`controller did not start:\n${out}`)), 30_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /REST API on (http:\/\/\S+?)\/api\/v1 .*gRPC for agents on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ api: m[1], grpc: Number(m[2]) });
      }
    });
  });
  proc.stderr.resume();
  const login = await (await fetch(`${ready.api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-pw' }) })).json();
  const rest = async (method, path, body) => {
    const r = await fetch(`${ready.api}${path}`, { method, headers: { authorization: `Bearer ${login.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, json: await r.json().catch(() => undefined) };
  };
  return { proc, grpc: ready.grpc, rest };
}

/**
 * The agent watching only containers labelled mseg.bench=<prefix>, capturing in namespace <prefix>.
 * `taps`: tap key → when it was first done; `tapsDeleted`: key → when it was removed; `tables`:
 * workload id → when its first Protect table (provisional or not) went in.
 */
export async function startAgent({ grpc, dir, prefix }) {
  const opts = { controllerUrl: `http://127.0.0.1:${grpc}`, joinToken: 'bench', dockerSocket: '/var/run/docker.sock', dpSocket: join(dir, 'dp.sock'), dataDir: join(dir, 'agent'), captureNetns: prefix, onlyLabel: { key: 'mseg.bench', value: prefix } };
  const proc = fork(join(here, 'agent-child.js'), [JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const a = { proc, taps: new Map(), tapsDeleted: new Map(), tables: new Map(), logs: [] };
  // Kept for the error message should the agent exit; the last 200 lines are enough.
  proc.stderr.on('data', (d) => {
    a.logs.push(d.toString());
    if (a.logs.length > 200) a.logs.shift();
  });
  let dpWaiter = null;
  proc.on('message', (m) => {
    const first = m.deleted ? a.tapsDeleted : a.taps;
    if (m.tap && !first.has(m.tap)) first.set(m.tap, m.at);
    if (m.table && !a.tables.has(m.table)) a.tables.set(m.table, m.at);
    if (m.log) a.logs.push(`${m.log}\n`);
    if ('dp' in m && dpWaiter) dpWaiter(m.dp);
  });
  await new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`agent exited (${code}):\n${a.logs.join('')}`)));
    proc.on('message', (m) => m.started && resolve());
  });
  /** The DP's pid once it runs. */
  a.dpPid = () => waitFor('the DP', () => new Promise((resolve) => {
    dpWaiter = resolve;
    proc.send('dp');
  }), 30_000, 200);
  /** The tap key of a container's eth0 (interface index unknown: every short form is tried). */
  a.tapOf = (id, map = a.taps) => [...map.keys()].find((k) => {
    for (let l = 1; l <= 4; l++) if (inName(id, Number(k.slice(15 - l))) === k) return true;
    return false;
  });
  a.stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.send('stop');
  });
  return a;
}

/** Starts a container of the run (labelled for cleanup; for the agent too when `monitored`). */
export function runBox(prefix, image, name, service, cmd, monitored = true) {
  return docker('run', '-d', '--name', `${prefix}-${name}`, '--label', `mseg.cleanup=${prefix}`, ...(monitored ? ['--label', `mseg.bench=${prefix}`] : []), '--label', `mseg.service=${service}`, image, ...cmd);
}

export const ipOf = (id) => docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', id);

/** An iperf3 + redis server container and a client container; `ip` is the server's address. */
export async function serverClientPair(prefix, image, tag, monitored) {
  const s = await runBox(prefix, image, `srv-${tag}`, `${prefix}-s`, ['bash', '-c', 'iperf3 -s -D; exec redis-server --protected-mode no'], monitored);
  const c = await runBox(prefix, image, `cli-${tag}`, `${prefix}-c`, ['sleep', '3600'], monitored);
  return { s, c, ip: await ipOf(s) };
}

/** iperf3 for `seconds` (Gbit/s received), then `pings` redis PING round trips on one connection. */
export async function measurePair(p, seconds = 5, pings = 20000) {
  const ip3 = JSON.parse(await docker('exec', p.c, 'iperf3', '-c', p.ip, '-t', String(seconds), '-J'));
  const gbps = ip3.end.sum_received.bits_per_second / 1e9;
  if (pings === 0) return { gbps, rps: NaN, p50: NaN };
  const rb = await docker('exec', p.c, 'redis-benchmark', '-h', p.ip, '-n', String(pings), '-c', '1', '-t', 'ping_mbulk', '--csv');
  const cols = rb.split('\n').find((l) => l.includes('PING')).split(',').map((x) => Number(x.replace(/"/g, '')));
  return { gbps, rps: cols[1], p50: cols[4] };
}

/** Removes the run's containers, capture namespace (and its pins), processes and scratch directory. */
export async function cleanup({ prefix, dir, ctl, agent }) {
  await agent?.stop();
  const left = (await docker('ps', '-aq', '--filter', `label=mseg.cleanup=${prefix}`)).split('\n').filter(Boolean);
  for (let i = 0; i < left.length; i += 50) await docker('rm', '-f', ...left.slice(i, i + 50));
  await run('ip', ['netns', 'del', prefix]).catch(() => {});
  rmSync(pinDir(prefix), { recursive: true, force: true });
  ctl?.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

export function printTable(title, rows) {
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length), 10));
  console.log(`\n${title}`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2] ?? ''}`);
}
