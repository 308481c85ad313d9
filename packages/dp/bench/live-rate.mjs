// Live rate benchmark of the whole data plane: `mseg-dp run` captures in a namespace that plays
// `mseg`, decodes every frame, tracks sessions, runs DPI, policy and threat checks and sends
// connection reports, while a C generator (live-gen.c) replays a many-flow capture at a fixed rate.
//
//   node packages/dp/bench/live-rate.mjs [--pps 500000] [--seconds 10]
//        [--mode mirror|mirror-ingress|direct|both]
//        [--pcap FILE] [--cpu-prof DIR] [--ring-blocks N] [--block-size BYTES] [--block-timeout MS]
//        [--generator-only] [--json]
//
// Modes (both by default, one after the other, each with its own namespaces):
//   mirror  as deployed: a client and a server namespace joined by a veth; the server's end is
//           mirrored with tc (clsact + u32 match-all + mirred, ingress and egress) onto an
//           nv-ex/nv-in veth pair whose nv-in end is in the capture namespace. Frames the client
//           sent leave the client namespace (the server's tc ingress copies them), frames the
//           server sent leave the server's interface (its tc egress copies them).
//   mirror-ingress  the same topology, but every frame leaves the client namespace, so only the
//           tc ingress mirror copies them: one socket, full batches, a cheaper sender.
//   direct  the generator writes every frame straight onto a veth whose peer is in the capture
//           namespace: no mirror, so the kernel's share of the work is smaller.
//
// --generator-only runs the same topology and generator with no DP and no capture socket: the
// ceiling of the generator and the kernel's path on this machine, to tell their limit from the DP's.
//
// The capture defaults to bench-data/dp-replay.pcap (built by gen-capture.js when missing): many
// templated real conversations of the DPI'd protocols, IPv4 and IPv6. The generator loops over it;
// every pass after the first moves the clients to another subnet, so sessions keep being created.
//
// Needs root (namespaces, tc, AF_PACKET), gcc, iproute2. Everything made here carries a per-run
// prefix and is removed at the end, also on failure or Ctrl-C.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { MAX_FRAME, encodeFrame } from '../dist/control/framing.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const DP_CLI = resolve(here, '../dist/cli/main.js');
const CLK_TCK = 100;
/** The DP counts as caught up when the ring holds no unprocessed frame; it gets this long after the generator ends. */
const CATCH_UP_LIMIT_MS = 30_000;
/** Large enough for every frame of the capture (its largest is ~2.3 KB): a jumbo-frame host. */
const MTU = 9000;
const WORKLOAD = 'bench-server';

/**
 * A monitor-mode policy with application rules, so that verdicts are taken at session start and
 * again when DPI decides, and the traffic no rule allows becomes violations.
 */
const POLICY_RULES = [
  { id: 1, ports: 'tcp/80,tcp/443', apps: ['HTTP', 'TLS'], action: 'allow' },
  { id: 2, ports: 'tcp/22', apps: ['SSH'], action: 'allow' },
  { id: 3, ports: 'tcp/3306,tcp/5432', apps: ['MySQL', 'PostgreSQL'], action: 'allow' },
  { id: 4, ports: 'udp/53,tcp/53', apps: ['DNS'], action: 'allow' },
  { id: 5, ports: 'tcp/6379', action: 'deny' },
];

const { values: opt } = parseArgs({
  options: {
    pps: { type: 'string', default: '500000' },
    seconds: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'both' },
    pcap: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'ring-blocks': { type: 'string' },
    'block-size': { type: 'string' },
    'block-timeout': { type: 'string' },
    'generator-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const pps = Number(opt.pps);
const seconds = Number(opt.seconds);
if (!(pps > 0 && pps <= 5_000_000)) throw new Error('--pps must be in (0, 5000000]');
if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be in (0, 60]');
const modes = opt.mode === 'both' ? ['mirror', 'direct'] : [opt.mode];
if (!modes.every((m) => m === 'mirror' || m === 'mirror-ingress' || m === 'direct')) {
  throw new Error('--mode is mirror, mirror-ingress, direct or both');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Undo steps of what is running now, for Ctrl-C: the finally blocks do not run on process.exit. */
const active = new Set();

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
}

/** Namespaces and veths of one run; remove() deletes the namespaces and with them every link. */
class Topology {
  constructor(mode) {
    this.mode = mode;
    const id = randomBytes(3).toString('hex');
    this.prefix = `mslr${id}`;
    this.capNs = `${this.prefix}-cap`;
    this.namespaces = [this.capNs];
    // The tap pair is named like the agent's, with the run id in place of the workload's short id.
    this.inIf = `nv-in-${id}`;
    try {
      sh('ip', ['netns', 'add', this.capNs]);
      if (mode !== 'direct') this.buildMirror(id);
      else this.buildDirect();
      const [link] = JSON.parse(sh('ip', ['-n', this.capNs, '-j', 'link', 'show', 'dev', this.inIf]));
      this.tapIfindex = link.ifindex;
    } catch (err) {
      this.remove();
      throw err;
    }
  }

  addNs(name) {
    sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    return name;
  }

  /** Creates a veth pair straight inside two namespaces, jumbo MTU, no IPv6 chatter, up. */
  veth(nsA, a, nsB, b) {
    sh('ip', ['link', 'add', a, 'netns', nsA, 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', b, 'netns', nsB, 'mtu', String(MTU)]);
    for (const [ns, dev] of [[nsA, a], [nsB, b]]) {
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  buildMirror(id) {
    this.cliNs = this.addNs(`${this.prefix}-cli`);
    this.srvNs = this.addNs(`${this.prefix}-srv`);
    this.cliIf = `${this.prefix}c`;
    this.srvIf = `${this.prefix}s`;
    this.exIf = `nv-ex-${id}`;
    this.veth(this.cliNs, this.cliIf, this.srvNs, this.srvIf);
    this.veth(this.srvNs, this.exIf, this.capNs, this.inIf);
    sh('ip', ['netns', 'exec', this.srvNs, 'tc', 'qdisc', 'add', 'dev', this.srvIf, 'clsact']);
    for (const hook of ['ingress', 'egress']) {
      sh('ip', ['netns', 'exec', this.srvNs, 'tc', 'filter', 'add', 'dev', this.srvIf, hook, 'protocol', 'all',
        'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', this.exIf]);
    }
  }

  buildDirect() {
    this.genNs = this.addNs(`${this.prefix}-gen`);
    this.genIf = `${this.prefix}g`;
    this.veth(this.genNs, this.genIf, this.capNs, this.inIf);
  }

  /** Arguments of `live-gen send` after SERVER_MAC: where each side's frames leave. */
  senderArgs() {
    if (this.mode === 'mirror') return [this.cliNs, this.cliIf, this.srvNs, this.srvIf];
    return this.mode === 'mirror-ingress' ? [this.cliNs, this.cliIf] : [this.genNs, this.genIf];
  }

  /** Kernel counters of the capture-side veth: frames the veth delivered and dropped. */
  tapCounters() {
    const [link] = JSON.parse(sh('ip', ['-n', this.capNs, '-s', '-j', 'link', 'show', 'dev', this.inIf]));
    return { rxPackets: link.stats64.rx.packets, rxDropped: link.stats64.rx.dropped };
  }

  remove() {
    for (const ns of this.namespaces) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // not created (construction failed earlier) or already removed
      }
    }
    this.namespaces = [];
  }
}

/**
 * The agent's side of the control socket: framed JSON, replies matched in order of arrival.
 * Pushed reports are counted by their type (read from the frame's first bytes) and not parsed:
 * parsing megabytes of connection records here would take CPU from the DP under test. Frames are
 * read whatever their size, so that reports over the protocol's MAX_FRAME are counted, not fatal.
 */
class Agent {
  static async connect(path, deadlineMs) {
    const end = Date.now() + deadlineMs;
    for (;;) {
      try {
        const sock = await new Promise((res, rej) => {
          const s = connect(path);
          s.once('connect', () => res(s));
          s.once('error', rej);
        });
        return new Agent(sock);
      } catch (err) {
        // The DP creates the socket only after opening the capture: retry until it is there.
        if (Date.now() > end) throw new Error(`DP control socket ${path} not reachable: ${err.message}`);
        await sleep(50);
      }
    }
  }

  constructor(sock) {
    this.sock = sock;
    this.waiters = [];
    this.pushed = { frames: {}, bytes: {}, largestFrame: 0, overMaxFrame: 0 };
    this.error = null;
    // Chunks are joined only once a whole frame is in: joining on every chunk would copy a
    // 20 MB report hundreds of times.
    let chunks = [];
    let have = 0;
    let need = 4;
    sock.on('data', (d) => {
      chunks.push(d);
      have += d.length;
      while (have >= need) {
        const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (need === 4) {
          need = 4 + buf.readUInt32BE(0);
          chunks = [buf];
          continue;
        }
        this.onFrame(buf.subarray(4, need));
        const rest = buf.subarray(need);
        chunks = rest.length ? [rest] : [];
        have = rest.length;
        need = 4;
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.fail(new Error('DP closed the control socket')));
  }

  onFrame(body) {
    const type = /^\{"type":"([a-z_]+)"/.exec(body.subarray(0, 40).toString('latin1'))?.[1] ?? '?';
    const p = this.pushed;
    p.frames[type] = (p.frames[type] ?? 0) + 1;
    p.bytes[type] = (p.bytes[type] ?? 0) + body.length;
    if (body.length > p.largestFrame) p.largestFrame = body.length;
    if (body.length > MAX_FRAME) p.overMaxFrame++;
    if (type !== 'ack' && type !== 'stats' && type !== 'error') return;
    const m = JSON.parse(body.toString('utf8'));
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    else if (m.type === 'error') this.fail(new Error(`DP refused a message: ${m.reason}`));
  }

  fail(err) {
    this.error ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Sends a message and resolves with its answer: `stats` for a stats request, else the ack. */
  request(msg, timeoutMs = 10_000) {
    const match = msg.type === 'stats' ? (m) => m.type === 'stats' : (m) => (m.type === 'ack' && m.of === msg.type) || m.type === 'error';
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${msg.type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => { clearTimeout(timer); if (m.type === 'error') reject(new Error(m.reason)); else resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.sock.write(encodeFrame(msg));
    });
  }

  close() {
    this.sock.destroy();
  }
}

/** utime + stime of a process (all threads) in ms, or null once it is gone. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(f[11]) * 1000) / CLK_TCK, system: (Number(f[12]) * 1000) / CLK_TCK };
  } catch {
    return null;
  }
}

function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: f[0] + f[1], system: f[2], softirq: f[6], idle: f[3] + f[4], total: f.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/**
 * Self time of a V8 .cpuprofile: the top functions and the share of each source file, in % of the
 * time the DP was busy (idle samples are left out, their share of the whole profile is given).
 */
function profileHotSpots(file, top = 20) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const byFn = new Map();
  const byFile = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    const cf = byId.get(prof.samples[i]).callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const src = cf.url.replace(/^file:\/\/.*\/packages\//, '').replace(/^node:.*/, 'node internals');
    const fn = `${cf.functionName || '(anonymous)'}${src ? ` ${src}:${cf.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
    const f = src || cf.functionName;
    byFile.set(f, (byFile.get(f) ?? 0) + dt);
    total += dt;
  }
  const pct = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => [k, Math.round((1000 * us) / total) / 10]);
  return { idlePercentOfProfile: Math.round((1000 * idle) / (idle + total)) / 10, functions: pct(byFn, top), files: pct(byFile, 12) };
}

function buildGenerator(dir) {
  const bin = join(dir, 'live-gen');
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join(here, 'live-gen.c')], { stdio: 'inherit' });
  return bin;
}

async function capturePath() {
  if (opt.pcap) return resolve(opt.pcap);
  const { ensureCapture } = await import('./gen-capture.js');
  return ensureCapture(repoRoot, (l) => process.stderr.write(`${l}\n`)).path;
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
async function stopChild(child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** The generator alone on the mode's topology: what it and the kernel path reach without a DP. */
async function runGeneratorOnly(mode, gen, pcap, probe) {
  const topo = new Topology(mode);
  const undo = () => topo.remove();
  active.add(undo);
  try {
    const ticks0 = machineTicks();
    const load0 = loadavg()[0];
    const { stdout } = await promisify(execFile)(gen, ['send', pcap, String(pps), String(seconds), probe.serverMac, ...topo.senderArgs()], {
      timeout: (seconds * 2 + 30) * 1000,
      killSignal: 'SIGKILL',
    });
    const ticks1 = machineTicks();
    const share = (k) => Math.round((100 * (ticks1[k] - ticks0[k])) / (ticks1.total - ticks0.total));
    return {
      mode,
      generatorOnly: true,
      offered: JSON.parse(stdout),
      tap: topo.tapCounters(),
      machine: { cpus: cpus().length, load1Before: load0, cpuPercentDuringSend: { user: share('user'), system: share('system'), softirq: share('softirq'), idle: share('idle') } },
    };
  } finally {
    topo.remove();
    active.clear();
  }
}

async function runMode(mode, gen, pcap, probe, tmp) {
  const topo = new Topology(mode);
  const undo = () => topo.remove();
  active.add(undo);
  let dp;
  let agent;
  try {
    const sock = join(tmp, `${mode}.sock`);
    const profDir = opt['cpu-prof'] ? resolve(opt['cpu-prof'], mode) : null;
    const dpArgs = [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), DP_CLI, 'run', '--netns', topo.capNs, '--socket', sock];
    if (opt['ring-blocks']) dpArgs.push('--ring-blocks', opt['ring-blocks']);
    if (opt['block-size']) dpArgs.push('--block-size', opt['block-size']);
    if (opt['block-timeout']) dpArgs.push('--block-timeout', opt['block-timeout']);
    dp = spawn(process.execPath, dpArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    const killDp = () => dp.kill('SIGKILL');
    active.add(killDp);
    let dpErr = '';
    dp.stderr.on('data', (d) => { dpErr += d; });
    const dpExit = new Promise((r) => dp.once('exit', r));
    agent = await Promise.race([
      Agent.connect(sock, 15_000),
      dpExit.then(() => { throw new Error(`mseg-dp exited early: ${dpErr.trim()}`); }),
    ]);
    await agent.request({ type: 'port_add', ifindex: topo.tapIfindex, workloadId: WORKLOAD, macs: [probe.serverMac], ips: [] });
    await agent.request({ type: 'policy_set', workloadId: WORKLOAD, mode: 'monitor', rules: POLICY_RULES });

    const s0 = await agent.request({ type: 'stats' });
    const cpu0 = processCpuMs(dp.pid);
    const ticks0 = machineTicks();
    const load0 = loadavg()[0];
    const t0 = Date.now();
    const genRun = promisify(execFile)(gen, ['send', pcap, String(pps), String(seconds), probe.serverMac, ...topo.senderArgs()], {
      timeout: (seconds * 2 + 30) * 1000,
      killSignal: 'SIGKILL',
    });
    const killGen = () => genRun.child.kill('SIGKILL');
    active.add(killGen);
    // Once a second: how far the DP is behind the ring (frames the kernel queued, not yet
    // processed), and how long it took to answer: the DP answers between batches, so a slow
    // answer is a stall of its event loop, the time in which the ring must hold the traffic.
    const samples = [];
    let genDone = false;
    const sampler = (async () => {
      while (!genDone) {
        await sleep(1000);
        if (genDone) break;
        const asked = Date.now();
        const s = await agent.request({ type: 'stats' });
        samples.push({
          t: (asked - t0) / 1000,
          answerMs: Date.now() - asked,
          processed: s.counters.packets - s0.counters.packets,
          ring: s.capture.packets - s0.capture.packets,
          drops: s.capture.drops - s0.capture.drops,
          backlog: s.capture.packets - s.capture.drops - s.counters.packets,
        });
      }
    })();
    const generator = JSON.parse((await genRun).stdout);
    active.delete(killGen);
    const genExit = Date.now();
    const ticks1 = machineTicks();
    genDone = true;
    await sampler;

    // Wait until every frame the ring took is processed and no more arrive.
    let s1;
    let caughtUp = null;
    let lastRing = -1;
    while (Date.now() - genExit < CATCH_UP_LIMIT_MS) {
      s1 = await agent.request({ type: 'stats' });
      const backlog = s1.capture.packets - s1.capture.drops - s1.counters.packets;
      if (backlog === 0 && s1.capture.packets === lastRing) {
        caughtUp ??= Date.now();
        break;
      }
      if (backlog === 0) caughtUp = Date.now();
      else caughtUp = null;
      lastRing = s1.capture.packets;
      await sleep(50);
    }
    const cpu1 = processCpuMs(dp.pid);
    const tap = topo.tapCounters();
    await stopChild(dp, 10_000);

    const processed = s1.counters.packets - s0.counters.packets;
    const ring = s1.capture.packets - s0.capture.packets;
    const drops = s1.capture.drops - s0.capture.drops;
    const freezes = s1.capture.freezeQueueCount - s0.capture.freezeQueueCount;
    // The generator sends for generator.seconds and exits; the DP's window ends when it caught up.
    const sendStart = genExit - generator.seconds * 1000;
    const dpSeconds = caughtUp === null ? null : (caughtUp - sendStart) / 1000;
    const dpPps = dpSeconds === null ? null : Math.round(processed / dpSeconds);
    const dpCpuMs = { user: Math.round(cpu1.user - cpu0.user), system: Math.round(cpu1.system - cpu0.system) };
    const share = (k) => Math.round((100 * (ticks1[k] - ticks0[k])) / (ticks1.total - ticks0.total));
    const c = s1.counters;
    const lostBeforeRing = generator.sent - ring;
    const result = {
      mode,
      path: {
        mirror: 'client/server veth, tc clsact u32 mirred (ingress+egress) -> nv-ex/nv-in -> capture netns',
        'mirror-ingress': 'client/server veth, every frame from the client side, tc ingress mirred -> nv-ex/nv-in -> capture netns',
        direct: 'generator veth -> nv-in in capture netns (no mirror)',
      }[mode],
      target: { pps, drops: 0 },
      offered: { pps: generator.pps, sent: generator.sent, failed: generator.failed, bytes: generator.bytes, seconds: generator.seconds, passes: generator.passes, byClient: generator.sentByClient, byServer: generator.sentByServer, sendmmsgCalls: generator.sendmmsgCalls },
      ring: { packets: ring, drops, freezeQueueCount: freezes, lostBeforeRing },
      tap,
      dp: {
        processed,
        pps: dpPps,
        seconds: dpSeconds,
        catchUpMs: caughtUp === null ? null : caughtUp - genExit,
        maxBacklogFrames: Math.max(0, ...samples.map((s) => s.backlog)),
        slowestStatsAnswerMs: Math.max(0, ...samples.map((s) => s.answerMs)),
        cpuMs: dpCpuMs,
        cpuPercentOfWindow: dpSeconds ? Math.round((dpCpuMs.user + dpCpuMs.system) / (10 * dpSeconds)) : null,
        sessionsCreated: c.sessionsCreated - s0.counters.sessionsCreated,
        sessionsActive: c.sessionsActive,
        sessionsEvicted: c.sessionsEvicted,
        dpiActive: c.dpiActive,
        dpiOverflow: c.dpiOverflow,
        malformed: c.malformed,
        nonIp: c.nonIp,
        threats: c.threats,
        unknownPort: c.unknownPort,
      },
      reports: agent.pushed,
      dpLog: dpErr.trim().split('\n').filter((l) => !l.startsWith('mseg-dp: capturing')),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, load1Before: load0, cpuPercentDuringSend: { user: share('user'), system: share('system'), softirq: share('softirq'), idle: share('idle') } },
      samples,
    };
    // Two verdicts. Taken in: the generator really offered the rate (within 1 %), nothing was lost
    // on the way to the ring or in it, and the DP processed every frame, if need be from the ring
    // after the generator stopped. Kept pace: besides, the DP's own rate over the whole window,
    // catch-up included, reached the target (within 1 %); a DP that only keeps up thanks to the
    // ring's buffer would drop frames in a longer run.
    result.targetTakenIn = generator.pps >= 0.99 * pps && drops === 0 && lostBeforeRing === 0 && processed === ring;
    result.targetPaced = result.targetTakenIn && dpPps !== null && dpPps >= 0.99 * pps;
    if (profDir) {
      const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
      result.profile = files.length ? { file: join(profDir, files[0]), hotSpots: profileHotSpots(join(profDir, files[0])) } : { error: 'no profile written' };
    }
    return result;
  } finally {
    agent?.close();
    if (dp) await stopChild(dp, 5_000);
    topo.remove();
    active.clear();
  }
}

function summary(r) {
  const k = (n) => (n === null ? 'n/a' : `${Math.round(n / 1000)}k`);
  const m = r.machine;
  const machine = `  machine: ${m.cpus} CPUs, load ${m.load1Before.toFixed(2)} before; during send user ${m.cpuPercentDuringSend.user} % sys ${m.cpuPercentDuringSend.system} % softirq ${m.cpuPercentDuringSend.softirq} % idle ${m.cpuPercentDuringSend.idle} %`;
  if (r.generatorOnly) {
    return [
      `${r.mode}, generator only (no DP, no capture socket):`,
      `  offered ${k(r.offered.pps)} pps (${r.offered.sent} frames in ${r.offered.seconds} s, ${r.offered.failed} failed, ${r.offered.sendmmsgCalls} sendmmsg calls); tap received ${r.tap.rxPackets}, dropped ${r.tap.rxDropped}`,
      machine,
    ].join('\n');
  }
  return [
    `${r.mode}: ${r.path}`,
    `  offered ${k(r.offered.pps)} pps (${r.offered.sent} frames in ${r.offered.seconds} s, ${r.offered.failed} failed), DP processed ${r.dp.processed} at ${k(r.dp.pps)} pps, caught up ${r.dp.catchUpMs} ms after the generator, max backlog ${r.dp.maxBacklogFrames} frames, slowest stats answer ${r.dp.slowestStatsAnswerMs} ms`,
    `  ring drops ${r.ring.drops}, freezes ${r.ring.freezeQueueCount}, lost before the ring ${r.ring.lostBeforeRing}; DP CPU ${r.dp.cpuMs.user} ms user + ${r.dp.cpuMs.system} ms sys (${r.dp.cpuPercentOfWindow} % of one core)`,
    `  sessions created ${r.dp.sessionsCreated}, evicted ${r.dp.sessionsEvicted}, threats ${r.dp.threats}; reports: ${r.reports.frames.connections ?? 0} connection batches (${Math.round((r.reports.bytes.connections ?? 0) / 1e6)} MB, largest frame ${Math.round(r.reports.largestFrame / 1e6)} MB, ${r.reports.overMaxFrame} over the ${MAX_FRAME >> 20} MiB frame limit), ${r.reports.frames.app_update ?? 0} app updates, ${r.reports.frames.threats ?? 0} threat logs`,
    machine,
    `  target ${k(r.target.pps)} pps with 0 drops: taken in ${r.targetTakenIn ? 'MET' : 'NOT MET'}, DP kept pace (catch-up included) ${r.targetPaced ? 'MET' : 'NOT MET'}`,
    ...(r.profile?.hotSpots ? [
      `  DP self time, % of busy time (idle ${r.profile.hotSpots.idlePercentOfProfile} % of the profile) by function:`, ...r.profile.hotSpots.functions.map(([k, p]) => `    ${String(p).padStart(5)} %  ${k}`),
      '  DP self time by file:', ...r.profile.hotSpots.files.map(([k, p]) => `    ${String(p).padStart(5)} %  ${k}`),
    ] : []),
  ].join('\n');
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('needs root: network namespaces, tc and AF_PACKET');
  if (!existsSync(DP_CLI)) throw new Error(`${DP_CLI} missing: run npx tsc -b packages/dp first`);
  const tmp = mkdtempSync(join(tmpdir(), 'mseg-live-rate-'));
  const abort = (code) => {
    // Children first (they hold the namespaces open), then the namespaces.
    for (const undo of [...active].reverse()) undo();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => abort(130));
  process.once('SIGTERM', () => abort(143));
  process.once('uncaughtException', (err) => {
    console.error(err);
    abort(1);
  });
  try {
    const gen = buildGenerator(tmp);
    const pcap = await capturePath();
    const probe = JSON.parse(sh(gen, ['probe', pcap]));
    process.stderr.write(`capture ${pcap}: ${probe.frames} frames, server MAC ${probe.serverMac}\n`);
    for (const mode of modes) {
      const r = opt['generator-only'] ? await runGeneratorOnly(mode, gen, pcap, probe) : await runMode(mode, gen, pcap, probe, tmp);
      console.log(opt.json ? JSON.stringify(r) : summary(r));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
