/**
 * Supervision of the data plane: starts `mseg-dp run`, connects to its control socket, sends a
 * keepalive every 2 s, and restarts the process when it exits or stops answering (no keepalive
 * reply for three intervals). The supervisor holds the full state the DP needs (ports, policies,
 * FQDN table, config) and sends all of it on every connect, so a restarted DP is whole again
 * without anyone else noticing. Messages from the DP go to callbacks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, type AgentMessage, type DpMessage, type Mode, type RuleSpec } from '@mseg/dp';
import { dpCommand } from './dp-command.js';

type Of<T extends DpMessage['type']> = Extract<DpMessage, { type: T }>;

export interface DpHandlers {
  onConnections?(msg: Of<'connections'>): void;
  onDns?(msg: Of<'dns'>): void;
  onThreats?(msg: Of<'threats'>): void;
  onAppUpdate?(msg: Of<'app_update'>): void;
  onCut?(msg: Of<'cut'>): void;
  onStats?(msg: Of<'stats'>): void;
  /** Process output, restarts, refused messages: for the agent's log. */
  onLog?(line: string): void;
}

export interface DpSupervisorOptions extends DpHandlers {
  socket: string;
  netns: string;
  /** Path of the pinned bypass map (the capture namespace's base keeps it). */
  bypassMap: string;
  /** The command line to run (tests); default `node <mseg-dp> run --netns … --socket … --bypass-map …`. */
  command?: string[];
  keepaliveMs?: number;
  /** Keepalive intervals without a reply before the DP counts as hung. */
  missedLimit?: number;
  config?: { reportInterval?: number; statsInterval?: number };
}

export interface DpStatus {
  state: 'stopped' | 'starting' | 'connected';
  pid: number | null;
  restarts: number;
  /** When the last keepalive reply arrived (ms since the epoch), 0 if none yet. */
  lastKeepalive: number;
  lastError: string;
}

type PortAdd = Extract<AgentMessage, { type: 'port_add' }>;
type PolicySet = Extract<AgentMessage, { type: 'policy_set' }>;

const CONNECT_RETRY_MS = 100;
const MAX_BACKOFF_MS = 30_000;
const STOP_GRACE_MS = 3000;

export class DpSupervisor {
  private readonly ports = new Map<number, PortAdd>();
  private readonly policies = new Map<string, PolicySet>();
  private child: ChildProcess | null = null;
  private sock: Socket | null = null;
  private running = false;
  private seq = 0;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly st: DpStatus = { state: 'stopped', pid: null, restarts: 0, lastKeepalive: 0, lastError: '' };

  constructor(private readonly opts: DpSupervisorOptions) {}

  status(): DpStatus {
    return { ...this.st };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    this.sock?.destroy();
    this.sock = null;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    this.st.state = 'stopped';
    this.st.pid = null;
    rmSync(this.pidFile, { force: true });
  }

  setPort(ifindex: number, port: Omit<PortAdd, 'type' | 'ifindex'>): void {
    const msg: PortAdd = { type: 'port_add', ifindex, ...port };
    this.ports.set(ifindex, msg);
    this.send(msg);
  }

  removePort(ifindex: number): void {
    if (this.ports.delete(ifindex)) this.send({ type: 'port_remove', ifindex });
  }

  setPolicy(workloadId: string, mode: Mode, rules: RuleSpec[], version?: number): void {
    const msg: PolicySet = { type: 'policy_set', workloadId, mode, rules, ...(version === undefined ? {} : { version }) };
    this.policies.set(workloadId, msg);
    this.send(msg);
  }

  removePolicy(workloadId: string): void {
    if (this.policies.delete(workloadId)) this.send({ type: 'policy_remove', workloadId });
  }

  /** Asks the DP for its counters now (answered through onStats). */
  requestStats(): void {
    this.send({ type: 'stats' });
  }

  private send(msg: AgentMessage): void {
    if (this.st.state === 'connected' && this.sock) this.sock.write(encodeFrame(msg));
  }

  /** Everything the DP must know, in dependency order: config, ports, then policies (DNS names the DP learns from the traffic itself: learned-names.ts). */
  private sendAll(): void {
    const sock = this.sock!;
    const c = this.opts.config;
    if (c && (c.reportInterval !== undefined || c.statsInterval !== undefined)) sock.write(encodeFrame({ type: 'config', ...c }));
    for (const p of this.ports.values()) sock.write(encodeFrame(p));
    for (const p of this.policies.values()) sock.write(encodeFrame(p));
  }

  /** `<socket>.pid`: the DP this supervisor runs, so the next agent can find it (see reapOrphan). */
  get pidFile(): string {
    return `${this.opts.socket}.pid`;
  }

  /**
   * An agent killed with SIGKILL leaves its DP running (nothing tells a child its parent died).
   * The pid file names it; it is still that DP when its command line names our socket. It is
   * killed, so exactly one DP captures and serves the socket.
   */
  private async reapOrphan(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid) return;
    const alive = () => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(this.opts.socket);
      } catch {
        return false;
      }
    };
    if (!alive()) return;
    this.opts.onLog?.(`dp: killing pid ${pid}, left running by an earlier agent`);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
  }

  private launch(): void {
    if (!this.running) return;
    void this.reapOrphan().then(
      () => this.spawnDp(),
      (err: unknown) => this.fail(`dp: earlier DP not stopped: ${String(err)}`),
    );
  }

  private spawnDp(): void {
    if (!this.running) return;
    const argv = this.opts.command ?? dpCommand(this.opts.netns, this.opts.socket, this.opts.bypassMap);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (child.pid !== undefined) {
      mkdirSync(dirname(this.pidFile), { recursive: true });
      writeFileSync(this.pidFile, `${child.pid}\n`);
    }
    this.st.state = 'starting';
    this.st.pid = child.pid ?? null;
    const log = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.opts.onLog?.(`dp: ${line}`);
    };
    child.stdout!.on('data', log);
    child.stderr!.on('data', log);
    child.on('error', (err) => {
      if (this.child !== child) return;
      this.child = null;
      this.st.state = 'stopped';
      this.st.pid = null;
      this.fail(`dp did not start: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.sock?.destroy();
      this.sock = null;
      this.clearTimers();
      this.st.state = 'stopped';
      this.st.pid = null;
      if (!this.running) return;
      this.fail(`dp exited (${signal ?? `code ${code}`})`);
    });
    this.connect(child, Date.now());
  }

  /** The socket appears once the DP has started; try until it does or the DP is gone. */
  private connect(child: ChildProcess, since: number): void {
    if (!this.running || this.child !== child) return;
    const sock = createConnection(this.opts.socket);
    const decoder = new FrameDecoder();
    sock.once('connect', () => {
      if (this.child !== child) return sock.destroy();
      this.sock = sock;
      this.st.state = 'connected';
      this.st.lastKeepalive = Date.now();
      this.sendAll();
      this.startKeepalive();
      this.opts.onLog?.(`dp connected (pid ${child.pid}, ${Date.now() - since} ms after start)`);
    });
    sock.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.opts.onLog?.(`dp sent a bad frame: ${(err as Error).message}`);
        sock.destroy();
        return;
      }
      for (const f of frames) this.dispatch(JSON.parse(f.toString('utf8')) as DpMessage);
    });
    sock.on('error', () => {
      // Not there yet (ENOENT/ECONNREFUSED) or gone: the close handler decides what is next.
    });
    sock.on('close', () => {
      if (this.sock === sock) {
        this.sock = null;
        this.st.state = 'starting';
        this.stopKeepalive();
      }
      if (this.running && this.child === child) {
        this.retryTimer = setTimeout(() => this.connect(child, since), CONNECT_RETRY_MS);
      }
    });
  }

  private dispatch(msg: DpMessage): void {
    switch (msg.type) {
      case 'keepalive':
        this.st.lastKeepalive = Date.now();
        this.failures = 0;
        break;
      case 'connections':
        this.opts.onConnections?.(msg);
        break;
      case 'dns':
        this.opts.onDns?.(msg);
        break;
      case 'threats':
        this.opts.onThreats?.(msg);
        break;
      case 'app_update':
        this.opts.onAppUpdate?.(msg);
        break;
      case 'cut':
        this.opts.onCut?.(msg);
        break;
      case 'stats':
        this.opts.onStats?.(msg);
        break;
      case 'error':
        this.opts.onLog?.(`dp refused a message: ${msg.reason}`);
        break;
      case 'ack':
        break;
    }
  }

  private startKeepalive(): void {
    const every = this.opts.keepaliveMs ?? 2000;
    const limit = every * (this.opts.missedLimit ?? 3);
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.st.lastKeepalive > limit) {
        this.opts.onLog?.(`dp did not answer keepalives for ${limit} ms: restarting it`);
        this.child?.kill('SIGKILL');
        return;
      }
      this.send({ type: 'keepalive', seq: ++this.seq });
    }, every);
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  private clearTimers(): void {
    this.stopKeepalive();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Records the failure and starts the DP again after a backoff (100 ms doubling to 30 s). */
  private fail(message: string): void {
    this.st.lastError = message;
    this.opts.onLog?.(message);
    if (!this.running) return;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures);
    this.failures++;
    this.st.restarts++;
    this.retryTimer = setTimeout(() => this.launch(), delay);
  }
}
