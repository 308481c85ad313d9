/**
 * Live data plane: frames from the AF_PACKET ring into the pipeline, the control socket to the
 * agent, and wall-clock timers for expiry and reports when traffic is idle.
 */
import { Capture, FRAME_CAPLEN, FRAME_IFINDEX, FRAME_NSEC, FRAME_OFFSET, FRAME_SEC, FRAME_WIRELEN, FRAME_WORDS } from '@mseg/capture';
import { BypassTable } from '../bypass/bypass-table.js';
import { ControlServer } from '../control/control-server.js';
import type { AgentMessage, DpMessage } from '../control/messages.js';
import { LinkType } from '../decode/linktype.js';
import { parseAddress } from '../net/address.js';
import { compilePolicy } from '../policy/compiled.js';
import { DataPlane } from './data-plane.js';

export interface LiveOptions {
  socket: string;
  netns?: string;
  ifindex?: number;
  snapLen?: number;
  /** Capture ring geometry (see @mseg/capture): a larger ring rides out longer stalls of the event loop. */
  blockSize?: number;
  blockCount?: number;
  blockTimeoutMs?: number;
  sessions?: number;
  /**
   * Path of the bypass map the agent pins (bypass/layout.ts). Opened at start, or at a later tick
   * when the agent has not pinned it yet; without it every segment stays copied.
   */
  bypassMap?: string;
  log?: (line: string) => void;
}

/**
 * Bytes kept per mirrored frame: a whole MTU-sized frame, and of a GSO super-frame the first 2 KiB,
 * which hold what DPI reads (request and status lines, headers' start, a TLS ClientHello even
 * with a post-quantum key share). 4096 made every frame take its own page of the ring: the DP
 * spent about twice the CPU per frame (1.2–1.5 vs 0.6–0.9 µs) and the kernel's ring copy a third
 * more on bulk container traffic (docs/BENCHMARKS.md, "Cost of the mirror").
 */
export const DEFAULT_SNAP_LEN = 2048;

/** Session rows visited per event-loop turn while a report is built (~10 ms of work). */
const REPORT_SLICE_ROWS = 4096;
/** Records per control frame: a connection record of ~300 bytes keeps a frame near 300 KB. */
const ITEMS_PER_FRAME = 1000;

/** How often the DP looks whether the agent pinned a new bypass map. */
const BYPASS_CHECK_MS = 5000;

export class LiveDataPlane {
  readonly dp: DataPlane;
  private readonly control: ControlServer;
  private capture: Capture | null = null;
  private timer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private reportStepping = false;
  private bypass: BypassTable | null = null;
  private bypassError = '';
  private nextBypassCheck = 0;
  private readonly started = Date.now();
  private readonly log: (line: string) => void;

  constructor(private readonly opts: LiveOptions) {
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    const send = (m: DpMessage): void => this.control.broadcast(m);
    this.dp = new DataPlane({
      sessions: opts.sessions,
      reportSlice: REPORT_SLICE_ROWS,
      onConnections: (items) => this.sendInFrames(items, (chunk) => ({ type: 'connections', items: chunk })),
      onDnsAnswers: (items) => this.sendInFrames(items, (chunk) => ({ type: 'dns', items: chunk })),
      onThreat: (t) => send({ type: 'threats', items: [t] }),
      onCut: (c) => send({ type: 'cut', ...c }),
      onAppUpdate: (u) => send({ type: 'app_update', ...u }),
    });
    this.control = new ControlServer(opts.socket, {
      onMessage: (m, reply) => this.onMessage(m, reply),
      log: this.log,
    });
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.capture = new Capture({
      netns: o.netns, ifindex: o.ifindex, snapLen: o.snapLen ?? DEFAULT_SNAP_LEN,
      blockSize: o.blockSize, blockCount: o.blockCount, blockTimeoutMs: o.blockTimeoutMs,
    });
    await this.control.listen();
    const cap = this.capture;
    cap.watch((err) => {
      if (err) {
        this.log(`capture: ${err.message}`);
        return;
      }
      this.drain();
    });
    this.checkBypass();
    this.scheduleTick();
    this.statsTimer = setInterval(() => this.sendStats(), 10_000);
  }

  /**
   * Ticks when the DP next has work rather than on a fixed 1 s beat: a beat would hold each report
   * back by up to a second past its interval, past the 6 s in which the agent expects it.
   */
  private scheduleTick(): void {
    const wait = Math.max(0, this.dp.nextDue * 1000 - Date.now());
    this.timer = setTimeout(() => {
      this.checkBypass();
      this.dp.tick(Date.now() / 1000);
      this.stepReport();
      this.scheduleTick();
    }, wait);
  }

  /**
   * A report of hundreds of thousands of records goes out as several frames, each encoded in its
   * own turn of the event loop: one frame would exceed the protocol's MAX_FRAME and stall capture.
   */
  private sendInFrames<T>(items: T[], message: (chunk: T[]) => DpMessage): void {
    for (let i = 0; i < items.length; i += ITEMS_PER_FRAME) {
      const chunk = items.slice(i, i + ITEMS_PER_FRAME);
      setImmediate(() => this.control.broadcast(message(chunk)));
    }
  }

  /** Builds a pending report one slice per event-loop turn, between ring drains. */
  private stepReport(): void {
    if (this.reportStepping || !this.dp.reportPending) return;
    this.reportStepping = true;
    setImmediate(() => {
      this.reportStepping = false;
      this.dp.continueReport(REPORT_SLICE_ROWS);
      this.stepReport();
    });
  }

  /**
   * Opens the map at each tick until the agent has pinned it; once open, looks every
   * BYPASS_CHECK_MS whether the agent pinned a new one (its pin was lost) and opens that.
   */
  private checkBypass(): void {
    const path = this.opts.bypassMap;
    if (!path) return;
    if (this.bypass) {
      if (Date.now() < this.nextBypassCheck) return;
      this.nextBypassCheck = Date.now() + BYPASS_CHECK_MS;
      if (BypassTable.pinnedId(path) === this.bypass.mapId) return;
    }
    this.openBypass(path);
  }

  private openBypass(path: string): void {
    try {
      this.bypass = BypassTable.open(path, this.dp.table.capacity);
      this.nextBypassCheck = Date.now() + BYPASS_CHECK_MS;
      this.dp.setBypass(this.bypass);
      this.log(`mseg-dp: session bypass map ${path} open`);
    } catch (err) {
      // Logged once per distinct reason: the agent pins the map shortly after starting the DP.
      const why = (err as Error).message;
      if (why !== this.bypassError) this.log(`mseg-dp: session bypass map ${path} not open yet (segments stay copied): ${why}`);
      this.bypassError = why;
    }
  }

  private drain(): void {
    const cap = this.capture;
    if (!cap) return;
    for (let b = cap.next(); b !== null; b = cap.next()) {
      const bytes = new Uint8Array(b.buffer);
      const ix = b.index;
      const dp = this.dp;
      for (let i = 0, o = 0; i < b.count; i++, o += FRAME_WORDS) {
        dp.handleFrame(
          LinkType.ETHERNET, bytes, ix[o + FRAME_OFFSET], ix[o + FRAME_CAPLEN], ix[o + FRAME_WIRELEN],
          ix[o + FRAME_SEC] + ix[o + FRAME_NSEC] / 1e9, ix[o + FRAME_IFINDEX],
        );
      }
      cap.release();
    }
    this.stepReport();
  }

  private sendStats(): void {
    this.control.broadcast(this.stats());
  }

  private stats(): DpMessage {
    const s = this.capture?.stats();
    return {
      type: 'stats',
      counters: this.dp.counters(),
      capture: s ? { packets: s.packets, drops: s.drops, freezeQueueCount: s.freezeQueueCount } : undefined,
    };
  }

  private onMessage(m: AgentMessage, reply: (m: DpMessage) => void): void {
    const dp = this.dp;
    switch (m.type) {
      case 'keepalive':
        reply({ type: 'keepalive', seq: m.seq, uptime: (Date.now() - this.started) / 1000 });
        return;
      case 'port_add':
        dp.ports.set({ ifindex: m.ifindex, workloadId: m.workloadId, macs: m.macs, ips: m.ips });
        break;
      case 'port_remove':
        // Frames still in the ring belong to the port's last sessions: count them first.
        this.drain();
        dp.removePort(m.ifindex);
        break;
      case 'policy_set':
        dp.policies.set(m.workloadId, compilePolicy({ mode: m.mode, rules: m.rules }));
        break;
      case 'policy_remove':
        dp.policies.delete(m.workloadId);
        break;
      case 'fqdn_set': {
        const pairs: [string, Uint32Array][] = [];
        for (const e of m.entries) for (const ip of e.ips) {
          const w = parseAddress(ip);
          if (w) pairs.push([e.name, w]);
        }
        dp.fqdn.replace(pairs);
        break;
      }
      case 'config':
        if (m.reportInterval !== undefined) dp.setReportInterval(m.reportInterval);
        if (m.statsInterval !== undefined) {
          if (this.statsTimer) clearInterval(this.statsTimer);
          this.statsTimer = setInterval(() => this.sendStats(), m.statsInterval * 1000);
        }
        break;
      case 'stats':
        reply(this.stats());
        return;
    }
    reply({ type: 'ack', of: m.type });
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.capture?.unwatch();
    this.drain();
    this.dp.flush();
    this.bypass?.close();
    this.capture?.close();
    // The last report's frames are queued with setImmediate; let them go out before closing.
    await new Promise((resolve) => setImmediate(resolve));
    await this.control.close();
  }
}
