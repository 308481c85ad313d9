/**
 * `npm run bench:dp`: replay speed of mseg against ndpiReader on one generated capture, and the
 * memory of 1,000,000 concurrent sessions. Prints progress, then a compact table.
 *
 * Options: --reps N (timed replays per tool, default 3), --profile (also write a CPU profile of
 * one mseg replay and print its top self-time functions).
 *
 * Each tool runs as its own process under bash's `time`, which reports wall-clock time and the
 * CPU time (user + sys) of the process and all its threads. packets/s = the packet count the tool
 * itself reports / that time; the figure per tool is the median of the repetitions.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCapture } from './gen-capture.js';
import { topSelfTime } from './profile-top.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const cli = join(repoRoot, 'packages/dp/dist/cli/main.js');

const args = process.argv.slice(2);
const repsArg = args.indexOf('--reps');
const reps = repsArg >= 0 ? Number(args[repsArg + 1]) : 3;
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps needs a positive integer');
const profile = args.includes('--profile');

const log = (s) => process.stderr.write(`bench:dp: ${s}\n`);

/** Runs argv under bash's `time`; returns stdout+stderr of the command and its times in seconds. */
function timed(argv) {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="@@time %R %U %S"; time "$@" 2>&1', 'bash', ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return { out: r.stdout, wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Reads the file once so every timed run finds it in the page cache. */
function warm(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

function machine() {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  const ndpi = spawnSync('ndpiReader', ['-h'], { encoding: 'utf8' });
  const ndpiVersion = /nDPI ([\d.]+)/.exec(`${ndpi.stdout}${ndpi.stderr}`);
  return {
    cpus: cpus().length,
    cpu: model ? model[1].trim() : 'unknown',
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    ndpi: ndpiVersion ? ndpiVersion[1] : 'unknown',
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

function msegRun(path) {
  const t = timed([process.execPath, cli, 'replay', '--summary', path]);
  const line = t.out.trim().split('\n').pop();
  const s = JSON.parse(line).summary;
  return { ...t, packets: s.packets, flows: s.flows, inner: s.seconds };
}

/** ndpiReader prints its statistics only without -q, so one counting run precedes the timed -q runs. */
function ndpiCount(path) {
  const t = timed(['ndpiReader', '-i', path]);
  const num = (re) => {
    const m = re.exec(t.out);
    if (!m) throw new Error(`unexpected ndpiReader output: ${re}`);
    return m[1];
  };
  return {
    ...t,
    packets: Number(num(/IP packets:\s+\d+\s+of (\d+) packets total/)),
    flows: Number(num(/Unique flows:\s+(\d+)/)),
    throughput: num(/nDPI throughput:\s+(.+?)\s*$/m),
  };
}

function ndpiRun(path) {
  return timed(['ndpiReader', '-q', '-i', path]);
}

function sessionsRun(mode) {
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, 'sessions.js'), mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sessions.js ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** A live-capture rate benchmark belongs to the capture package; name it when it exists. */
function liveRate() {
  const dir = join(repoRoot, 'packages/capture/bench');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(m?js|ts)$/.test(f)) : [];
  return files.length > 0 ? `see packages/capture/bench (${files.join(', ')})` : 'see packages/capture/bench';
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtK = (pps) => `${fmtInt(pps / 1000)} k`;

const m = machine();
log(`${m.cpus} × ${m.cpu}, ${m.ramGiB} GiB, Node ${m.node}, nDPI ${m.ndpi}, load ${m.load}`);
const { path, meta } = ensureCapture(repoRoot, log);
log(`capture ${path}: ${fmtInt(meta.packets)} packets, ${fmtInt(meta.flows)} flows, ${(meta.bytes / 1e6).toFixed(0)} MB`);
warm(path);

const ndpiInfo = ndpiCount(path);
log(`ndpiReader reports ${fmtInt(ndpiInfo.packets)} packets, ${fmtInt(ndpiInfo.flows)} flows, throughput ${ndpiInfo.throughput}`);
const mseg = [];
const ndpi = [];
// Alternating runs spread any change in background load over both tools.
for (let i = 0; i < reps; i++) {
  const a = msegRun(path);
  mseg.push(a);
  log(`mseg       run ${i + 1}: wall ${a.wall.toFixed(2)} s, cpu ${a.cpu.toFixed(2)} s, ${fmtInt(a.packets)} packets`);
  const b = ndpiRun(path);
  ndpi.push(b);
  log(`ndpiReader run ${i + 1}: wall ${b.wall.toFixed(2)} s, cpu ${b.cpu.toFixed(2)} s`);
}
const msegPackets = mseg[0].packets;
const msegWall = median(mseg.map((r) => r.wall));
const msegCpu = median(mseg.map((r) => r.cpu));
const ndpiWall = median(ndpi.map((r) => r.wall));
const ndpiCpu = median(ndpi.map((r) => r.cpu));
const pps = {
  msegWall: msegPackets / msegWall,
  msegCpu: msegPackets / msegCpu,
  ndpiWall: ndpiInfo.packets / ndpiWall,
  ndpiCpu: ndpiInfo.packets / ndpiCpu,
};

let hot = [];
if (profile) {
  const dir = mkdtempSync(join(tmpdir(), 'mseg-prof-'));
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, cli, 'replay', '--summary', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`profiled replay failed: ${r.stderr}`);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  hot = topSelfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')), 15);
  rmSync(dir, { recursive: true });
}

const sessions = ['request', 'exchange', 'handshake'].map((mode) => {
  const s = sessionsRun(mode);
  log(`1M sessions (${mode}): RSS ${s.rssMiB} MiB, ${fmtInt(s.sessionsActive)} active, ${fmtInt(s.dpiActive)} in DPI`);
  return s;
});

const rows = [
  ['capture', `${fmtInt(meta.packets)} packets, ${fmtInt(meta.flows)} flows (${Math.round((100 * meta.ipv6Flows) / meta.flows)} % IPv6), ${(meta.bytes / 1e6).toFixed(0)} MB, ${Math.round(meta.seconds)} s, ≤ ${fmtInt(meta.maxConcurrentFlows)} flows open at once`],
  ['packets reported', `mseg ${fmtInt(msegPackets)} (${fmtInt(mseg[0].flows)} sessions) · ndpiReader ${fmtInt(ndpiInfo.packets)} (${fmtInt(ndpiInfo.flows)} flows)`],
  [`replay wall, median of ${reps}`, `mseg ${msegWall.toFixed(2)} s · ndpiReader -q ${ndpiWall.toFixed(2)} s`],
  [`replay CPU (user+sys), median of ${reps}`, `mseg ${msegCpu.toFixed(2)} s · ndpiReader -q ${ndpiCpu.toFixed(2)} s`],
  ['packets/s by wall time', `mseg ${fmtK(pps.msegWall)} · ndpiReader ${fmtK(pps.ndpiWall)} · ratio ${(pps.msegWall / pps.ndpiWall).toFixed(2)}×`],
  ['packets/s by CPU time', `mseg ${fmtK(pps.msegCpu)} · ndpiReader ${fmtK(pps.ndpiCpu)} · ratio ${(pps.msegCpu / pps.ndpiCpu).toFixed(2)}×`],
  ['ndpiReader own throughput line', ndpiInfo.throughput],
  ...sessions.map((s) => [
    `1M sessions, ${s.mode}`,
    `RSS ${s.rssMiB} MiB (empty table ${s.rssEmptyTableMiB}, heap ${s.heapUsedMiB}, typed arrays ${s.arrayBuffersMiB}) · ${fmtInt(s.sessionsActive)} active · ${fmtInt(s.dpiActive)} in DPI, ${fmtInt(s.dpiOverflow)} DPI overflow`,
  ]),
  ['live capture rate', liveRate()],
];
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nmseg data plane benchmark — ${new Date().toISOString().slice(0, 10)}, ${m.cpus} × ${m.cpu}, ${m.ramGiB} GiB RAM, Node ${m.node}, nDPI ${m.ndpi}, load at start ${m.load}`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
if (hot.length > 0) {
  console.log('\nmseg replay, top self time:');
  for (const h of hot) console.log(`  ${h.percent.toFixed(1).padStart(5)} %  ${h.name}  ${h.where}`);
}
