/**
 * The data plane's per-frame pipeline: decode → session → DPI → policy → threats, and the
 * periodic work driven by capture time: idle expiry every second, connection reports every
 * five. The same object serves live capture and file replay; only the source differs.
 */
import type { BypassTable } from '../bypass/bypass-table.js';
import { decodeFrame } from '../decode/decoder.js';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, MALFORMED_REASONS, Packet,
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN,
} from '../decode/packet.js';
import { APP_UNKNOWN, appName } from '../dpi/apps.js';
import type { DnsAnswerRecord } from '../control/messages.js';
import { DpiEngine, DpiStatus } from '../dpi/engine.js';
import type { FlowMeta } from '../dpi/meta.js';
import type { DpiParser } from '../dpi/parser.js';
import { addressKey, formatAddress, formatEndpoint, parseAddress } from '../net/address.js';
import { Action, ACTION_NAMES, evaluate, type CompiledPolicy, type Verdict } from '../policy/compiled.js';
import { FqdnTable } from '../policy/fqdn-table.js';
import { addDelta, ConnectionAggregator, DIRECTION_NAMES, type ConnectionRecord } from '../report/connection-aggregator.js';
import { SessionFlag as F, SessionTable } from '../session/table.js';
import { idleTimeout, TcpState, TCP_STATE_NAMES } from '../session/tcp-state.js';
import { Severity, Threat, threatDef } from '../threat/catalog.js';
import { PacketThreatDetector, type FloodThresholds } from '../threat/packet-detector.js';
import { ThreatLog, type ThreatRecord } from '../threat/threat-log.js';
import { PortTable } from './ports.js';
import type { FlowRecord } from './flow-record.js';
import { LearnedDns } from './learned-dns.js';

export interface DataPlaneOptions {
  /** Concurrent sessions the table holds (default 1,048,576). */
  sessions?: number;
  /** Sessions in DPI at once, classifying or following (default 65,536). */
  dpiSessions?: number;
  /** Connection report interval in seconds (default 5). */
  reportInterval?: number;
  flood?: FloodThresholds;
  /** DPI parsers (default: all of dpi/registry.ts). */
  parsers?: readonly DpiParser[];
  /**
   * Keep each session's DPI findings until it ends, for flow records (replay). Live reports do
   * not carry them, so the live data plane leaves this off and saves the memory.
   */
  keepMeta?: boolean;
  /**
   * Build each connection report in steps of this many session rows (continueReport()) instead of
   * in one go, so a live data plane keeps draining its ring while a large report is built.
   */
  reportSlice?: number;
  onConnections?: (batch: ConnectionRecord[]) => void;
  /** DNS answers learned since the last report, emitted with each report (none: not collected). */
  onDnsAnswers?: (answers: DnsAnswerRecord[]) => void;
  onThreat?: (t: ThreatRecord) => void;
  /** Called when a session ends (idle, evicted, or flushed at the end). */
  onFlowEnd?: (f: FlowRecord) => void;
  /** A Protect-mode deny decided after the app became known: ask the agent to cut the flow. */
  onCut?: (c: FlowCut) => void;
  /** A workload serves `app` on `port`/`proto` (first time seen). */
  onAppUpdate?: (u: AppUpdate) => void;
  /**
   * The kernel's bypass map (live capture): a TCP session DPI is done with goes into it, and its
   * data segments are then counted by the mirror program instead of copied.
   */
  bypass?: BypassTable;
}

export interface FlowCut {
  workloadId: string;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  proto: number;
  app: string;
  ruleId: number;
}

export interface AppUpdate {
  workloadId: string;
  port: number;
  proto: number;
  app: string;
}

export interface DataPlaneCounters {
  packets: number;
  bytes: number;
  malformed: number;
  malformedByReason: Record<string, number>;
  nonIp: number;
  fragments: number;
  sessionsCreated: number;
  sessionsActive: number;
  sessionsEvicted: number;
  dpiActive: number;
  dpiOverflow: number;
  dpiRetired: number;
  threats: number;
  unknownPort: number;
  /** Sessions whose data segments the kernel counts instead of copying (none without a bypass map). */
  bypassActive: number;
  /** Packets and bytes so counted since start; `packets`/`bytes` above are the copied ones. */
  bypassPackets: number;
  bypassBytes: number;
  /** Sessions that stayed copied because the bypass map was full. */
  bypassFull: number;
}

/** Distinct findings kept shared; past this the pool starts over (old rows keep their objects). */
const MAX_INTERNED_META = 65_536;

const DIR_NONE = 0;
const DIR_INGRESS = 1;
const DIR_EGRESS = 2;

/** Server ports that decide the client when the handshake was not seen (well-known services). */
function looksLikeServerPort(port: number): boolean {
  return port < 1024 || port === 1433 || port === 1521 || port === 1883 || port === 2181 || port === 3306 ||
    port === 4222 || port === 5432 || port === 5672 || port === 6379 || port === 8080 || port === 9042 ||
    port === 9092 || port === 9200 || port === 9300 || port === 11211 || port === 27017 || port === 2379;
}

/**
 * ICMPv6 neighbour discovery (RS, RA, NS, NA, redirect: 133-137) and multicast listener
 * discovery (MLD queries, reports, done: 130-132, 143): link housekeeping every IPv6 interface
 * sends on its own, between link-local and multicast addresses, never a flow a policy is about.
 * Such sessions get no verdict, so they are neither violations nor reported (never answered).
 */
function isLinkHousekeeping(proto: number, icmpType: number): boolean {
  return proto === IPPROTO_ICMPV6 && ((icmpType >= 130 && icmpType <= 137) || icmpType === 143);
}

export class DataPlane {
  readonly table: SessionTable;
  readonly dpi: DpiEngine;
  readonly ports = new PortTable();
  readonly fqdn = new FqdnTable();
  readonly policies = new Map<string, CompiledPolicy>();
  /** Policy for traffic of no registered port (capture files): the `--policy` file. */
  defaultPolicy: CompiledPolicy | null = null;

  private readonly p = new Packet();
  private readonly threats: PacketThreatDetector;
  private readonly threatLog: ThreatLog;
  private readonly connections = new ConnectionAggregator();
  private readonly learnedDns = new LearnedDns();
  /** How many of a DNS flow's answers (its FlowMeta list, which only grows) were learned already. */
  private readonly dnsLearned = new WeakMap<object, number>();
  private readonly verdict: Verdict = { action: 0, ruleId: 0, pending: false };
  private readonly wA = new Uint32Array(4);
  private readonly wB = new Uint32Array(4);
  private readonly announced = new Set<string>();
  private readonly interned = new Map<string, FlowMeta>();
  private readonly malformedCounts = new Uint32Array(MALFORMED_REASONS.length);
  private reportInterval: number;
  private nextSweep = 0;
  private nextReport = 0;
  private lastTs = 0;
  private bypassTable: BypassTable | null;
  /** When the bypass counters were last read (the last tick). */
  private bypassNow = 0;
  private reportCursor = -1;

  packets = 0;
  bytes = 0;
  malformed = 0;
  nonIp = 0;
  fragments = 0;
  sessionsCreated = 0;
  unknownPort = 0;

  constructor(private readonly opts: DataPlaneOptions = {}) {
    this.table = new SessionTable(opts.sessions ?? 1 << 20);
    this.dpi = new DpiEngine(opts.dpiSessions ?? 1 << 16, opts.parsers);
    this.reportInterval = opts.reportInterval ?? 5;
    this.bypassTable = opts.bypass ?? null;
    this.threatLog = new ThreatLog((t) => this.opts.onThreat?.(t));
    this.threats = new PacketThreatDetector((id, p, detail) => {
      const port = this.ports.get(p.ifindex);
      this.threatLog.report(id, p.ts, port ? port.workloadId : '', formatEndpoint(p.src, p.sport), formatEndpoint(p.dst, p.dport), p.proto, 'unknown', detail);
    }, opts.flood);
    this.dpi.onRetire = (row, meta) => {
      this.table.dpi[row] = -1;
      this.table.flags[row] |= F.dpiDone;
      this.keep(row, meta);
      this.bypass(row);
    };
    this.table.onMove = (from, to) => {
      this.bypassTable?.move(from, to);
      const h = this.table.dpi[to];
      if (h >= 0) {
        const s = this.dpi.get(h);
        if (s) s.row = to;
      }
    };
  }

  private readonly reportDpiThreat = (row: number, id: number, detail: string): void => {
    const t = this.table;
    const sev = Severity[threatDef(id)?.severity ?? 'info'];
    if (sev > t.threatSev[row]) t.threatSev[row] = sev;
    t.flags[row] |= F.dirty;
    const cp = t.client(row, this.wA);
    const sp = t.server(row, this.wB);
    this.threatLog.report(id, t.lastSeen[row], this.workloadOf(row), formatEndpoint(this.wA, cp), formatEndpoint(this.wB, sp), t.proto[row], appName(t.app[row]), detail);
  };

  private workloadOf(row: number): string {
    const port = this.ports.get(this.table.ifindex[row]);
    return port ? port.workloadId : '';
  }

  /** Handles one captured frame. The bytes are only borrowed for the duration of the call. */
  handleFrame(linkType: number, buf: Uint8Array, off: number, capLen: number, wireLen: number, ts: number, ifindex: number): void {
    this.packets++;
    const p = this.p;
    const r = decodeFrame(linkType, buf, off, capLen, p);
    if (r !== 0) {
      if (r > 0) {
        this.malformed++;
        this.malformedCounts[r]++;
      } else {
        this.nonIp++;
      }
      return;
    }
    p.ts = ts;
    p.ifindex = ifindex;
    p.wireLen = wireLen;
    if (ts > this.lastTs) this.lastTs = ts;
    if (ts >= this.nextSweep) this.tick(ts);
    // Bytes come from the IP header, not the captured length (snap length, GSO super-frames).
    const len = p.ipLen > 0 ? p.ipLen : wireLen;
    this.bytes += len;
    this.threats.inspect(p);
    if (p.isFragment) {
      this.fragments++;
      return;
    }
    const t = this.table;
    let row = t.lookup(p);
    let isNew = false;
    if (row < 0) {
      if (t.count >= t.capacity) this.makeRoom(ts);
      // makeRoom() does not disturb the hash/order remembered by lookup().
      row = t.insert(p);
      isNew = true;
      this.sessionsCreated++;
    }
    const fromA = t.lastIsA;
    if (isNew) this.initSession(row, p, fromA);
    const fromClient = (t.clientIsA[row] === 1) === fromA;
    const dir = fromClient ? 0 : 1;
    const r2 = (row << 1) + dir;
    t.pkts[r2]++;
    t.bytes[r2] += len;
    t.lastSeen[row] = ts;
    t.flags[row] |= F.dirty;

    if (p.proto === IPPROTO_TCP) this.tcpUpdate(row, p, fromClient, isNew);
    else if (!fromClient && !isNew) {
      if (p.proto !== IPPROTO_ICMP && p.proto !== IPPROTO_ICMPV6) t.flags[row] |= F.answered;
      else if (p.icmpType === 0 || p.icmpType === 129) t.flags[row] |= F.answered;
    }

    if (p.payloadLen > 0 && (t.flags[row] & F.dpiDone) === 0 && (p.proto === IPPROTO_TCP || p.proto === IPPROTO_UDP)) {
      this.runDpi(row, p, fromClient);
    }
  }

  private initSession(row: number, p: Packet, srcIsA: boolean): void {
    const t = this.table;
    let srcIsClient: boolean;
    if (p.proto === IPPROTO_TCP && (p.tcpFlags & TCP_SYN) !== 0) {
      srcIsClient = (p.tcpFlags & TCP_ACK) === 0;
      if ((p.tcpFlags & TCP_ACK) === 0) t.flags[row] |= F.sawSyn;
    } else if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) {
      srcIsClient = !(p.icmpType === 0 || p.icmpType === 129);
    } else {
      const sServer = looksLikeServerPort(p.sport);
      const dServer = looksLikeServerPort(p.dport);
      if (sServer !== dServer) srcIsClient = dServer;
      else if (sServer && dServer) srcIsClient = p.sport >= p.dport;
      else srcIsClient = true;
    }
    t.clientIsA[row] = srcIsClient === srcIsA ? 1 : 0;
    const port = this.ports.get(p.ifindex);
    let policy = this.defaultPolicy;
    if (port) {
      const macKey = p.srcMacHi * 4294967296 + p.srcMacLo;
      t.direction[row] = port.macs.has(macKey) || this.ipIsWorkload(port.ips, p.src)
        ? (srcIsClient ? DIR_EGRESS : DIR_INGRESS)
        : (srcIsClient ? DIR_INGRESS : DIR_EGRESS);
      policy = this.policies.get(port.workloadId) ?? null;
    } else if (p.ifindex !== 0) {
      this.unknownPort++;
    } else {
      t.direction[row] = DIR_NONE;
    }
    if (policy && !isLinkHousekeeping(p.proto, p.icmpType)) this.decide(row, policy, false);
  }

  private ipIsWorkload(ips: Set<string>, w: Uint32Array): boolean {
    return ips.size > 0 && ips.has(addressKey(w));
  }

  private policyOf(row: number): CompiledPolicy | null {
    const port = this.ports.get(this.table.ifindex[row]);
    return port ? this.policies.get(port.workloadId) ?? null : this.defaultPolicy;
  }

  /** Takes the policy verdict for a row; `appFinal` once DPI has decided. Returns the action. */
  private decide(row: number, policy: CompiledPolicy, appFinal: boolean): number {
    const t = this.table;
    const sp = t.server(row, this.wB);
    t.client(row, this.wA);
    const v = evaluate(policy, this.wA, this.wB, t.proto[row], sp, t.app[row], appFinal, this.fqdn, this.verdict);
    t.ruleId[row] = v.ruleId;
    t.action[row] = v.action;
    if (v.pending) t.flags[row] |= F.appPending;
    else t.flags[row] &= ~F.appPending;
    return v.action;
  }

  /** Re-takes the verdict once the application is known; a new Protect deny asks for a cut. */
  private appDecided(row: number, appFinal: boolean): void {
    const t = this.table;
    const policy = this.policyOf(row);
    if (policy) {
      const before = t.action[row];
      const after = this.decide(row, policy, appFinal);
      if (after === Action.deny && before !== Action.deny && (t.flags[row] & F.cutRequested) === 0) {
        t.flags[row] |= F.cutRequested;
        this.requestCut(row);
      }
    }
    const app = t.app[row];
    if (app !== APP_UNKNOWN && t.direction[row] === DIR_INGRESS && this.opts.onAppUpdate) {
      const workloadId = this.workloadOf(row);
      const sp = t.server(row, this.wB);
      const key = `${workloadId}|${t.proto[row]}|${sp}|${app}`;
      if (!this.announced.has(key)) {
        if (this.announced.size > 100_000) this.announced.clear();
        this.announced.add(key);
        this.opts.onAppUpdate({ workloadId, port: sp, proto: t.proto[row], app: appName(app) });
      }
    }
  }

  private requestCut(row: number): void {
    if (!this.opts.onCut) return;
    const t = this.table;
    const cp = t.client(row, this.wA);
    const sp = t.server(row, this.wB);
    this.opts.onCut({
      workloadId: this.workloadOf(row), client: formatAddress(this.wA), server: formatAddress(this.wB),
      clientPort: cp, serverPort: sp, proto: t.proto[row], app: appName(t.app[row]), ruleId: t.ruleId[row],
    });
  }

  private tcpUpdate(row: number, p: Packet, fromClient: boolean, isNew: boolean): void {
    const t = this.table;
    const f = p.tcpFlags;
    const st = t.state[row];
    if (f & TCP_RST) {
      t.state[row] = TcpState.reset;
      return;
    }
    if (isNew) {
      if ((f & (TCP_SYN | TCP_ACK)) === TCP_SYN) t.state[row] = TcpState.synSent;
      else if ((f & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) t.state[row] = TcpState.synReceived;
      else t.state[row] = p.payloadWireLen > 0 ? TcpState.established : TcpState.establishedNoData;
    } else {
      switch (st) {
        case TcpState.synSent:
          if (!fromClient && (f & TCP_SYN) !== 0) {
            if ((f & TCP_ACK) !== 0) {
              t.state[row] = TcpState.synReceived;
              t.flags[row] |= F.answered;
            } else {
              this.reportDpiThreat(row, Threat.TCP_SPLIT_HANDSHAKE, 'server answered SYN with SYN');
            }
          }
          break;
        case TcpState.synReceived:
          if (fromClient && (f & (TCP_ACK | TCP_SYN)) === TCP_ACK) {
            t.state[row] = p.payloadWireLen > 0 ? TcpState.established : TcpState.establishedNoData;
            t.flags[row] |= F.answered;
          }
          break;
        case TcpState.establishedNoData:
          if (p.payloadWireLen > 0) t.state[row] = TcpState.established;
          break;
      }
      // Mid-stream sessions count as answered once the server side speaks.
      if (!fromClient && (t.flags[row] & F.sawSyn) === 0) t.flags[row] |= F.answered;
    }
    if (f & TCP_FIN) {
      t.flags[row] |= fromClient ? F.finClient : F.finServer;
      const both = (t.flags[row] & (F.finClient | F.finServer)) === (F.finClient | F.finServer);
      t.state[row] = both ? TcpState.closed : TcpState.halfClosed;
    }
  }

  private runDpi(row: number, p: Packet, fromClient: boolean): void {
    const t = this.table;
    let h = t.dpi[row];
    if (h < 0) {
      const cp = t.clientIsA[row] ? t.ports[row] >>> 16 : t.ports[row] & 0xffff;
      const sp = t.clientIsA[row] ? t.ports[row] & 0xffff : t.ports[row] >>> 16;
      h = this.dpi.open(p.proto, cp, sp, row, this.reportDpiThreat);
      if (h < 0) {
        t.flags[row] |= F.dpiDone;
        this.bypass(row);
        return;
      }
      t.dpi[row] = h;
    }
    const status = this.dpi.inspect(h, p.buf, p.payloadOff, p.payloadLen, fromClient, p.seq);
    const s = this.dpi.get(h);
    if (s && s.meta.app !== t.app[row]) {
      t.app[row] = s.meta.app;
      this.appDecided(row, false);
    }
    if (s?.meta.dnsAnswers) this.learnDns(s.meta.dnsAnswers);
    if (status === DpiStatus.done) {
      const meta = this.dpi.close(h);
      t.dpi[row] = -1;
      t.flags[row] |= F.dpiDone;
      if (meta) this.keep(row, meta);
      if (t.flags[row] & F.appPending) this.appDecided(row, true);
      this.bypass(row);
    }
  }

  /**
   * Hands an established TCP session DPI is done with to the kernel's counters. Its verdict is
   * taken, and what the DP still needs of it (handshake and flood checks on SYNs, the end on
   * FIN/RST, fragments) the mirror program keeps copying.
   */
  private bypass(row: number): void {
    const b = this.bypassTable;
    const t = this.table;
    if (!b || t.proto[row] !== IPPROTO_TCP || (t.flags[row] & (F.cutRequested | F.appPending)) !== 0) return;
    const st = t.state[row];
    if (st !== TcpState.established && st !== TcpState.establishedNoData) return;
    const port = t.ifindex[row];
    if (!this.ports.get(port)) return;
    const cp = t.client(row, this.wA);
    const sp = t.server(row, this.wB);
    b.add(row, port, this.wA, cp, this.wB, sp);
  }

  /** Adds what the kernel counted for a bypassed session since the last read. */
  private readonly bypassed = (row: number, pktsToServer: number, bytesToServer: number, pktsToClient: number, bytesToClient: number): void => {
    const t = this.table;
    const r2 = row << 1;
    t.pkts[r2] += pktsToServer;
    t.bytes[r2] += bytesToServer;
    t.pkts[r2 + 1] += pktsToClient;
    t.bytes[r2 + 1] += bytesToClient;
    if (this.bypassNow > t.lastSeen[row]) t.lastSeen[row] = this.bypassNow;
    t.flags[row] |= F.dirty;
  };

  /**
   * Keeps a finished session's findings for its flow record. Identical findings (same host, path,
   * SNI… across many sessions) share one interned object, so a million similar sessions do not
   * hold a million copies.
   */
  private keep(row: number, meta: FlowMeta): void {
    if (!this.opts.keepMeta || !hasFindings(meta)) return;
    const key = JSON.stringify(meta);
    let shared = this.interned.get(key);
    if (!shared) {
      if (this.interned.size >= MAX_INTERNED_META) this.interned.clear();
      shared = meta;
      this.interned.set(key, shared);
    }
    this.table.meta[row] = shared;
  }

  /**
   * Learns a DNS flow's answers as each response is parsed, not when DPI is done with the flow:
   * the parser follows a resolver's flow for many queries, and the client connects to the answer
   * right after the response, so the name must be known by then.
   */
  private learnDns(answers: NonNullable<FlowMeta['dnsAnswers']>): void {
    const from = this.dnsLearned.get(answers) ?? 0;
    if (from === answers.length) return;
    for (let i = from; i < answers.length; i++) {
      const a = answers[i];
      const w = parseAddress(a.addr);
      if (!w) continue;
      this.fqdn.add(a.name, w);
      if (this.opts.onDnsAnswers) this.learnedDns.add(a.name, formatAddress(w), a.ttl);
    }
    this.dnsLearned.set(answers, answers.length);
  }

  /**
   * The bypass map became available (live: the agent pins it after the DP may have started), or
   * the agent replaced it: the old map's last counts are taken and it is let go. Its sessions stay
   * copied from then on (the filters now look in the new map).
   */
  setBypass(b: BypassTable): void {
    const old = this.bypassTable;
    if (old) {
      old.poll(this.bypassed);
      old.close();
    }
    this.bypassTable = b;
  }

  setReportInterval(seconds: number): void {
    this.reportInterval = seconds;
    this.nextReport = Math.min(this.nextReport, this.lastTs + seconds);
  }

  /** Capture time (s) when tick() next has work: the next sweep second or report, 0 before the first tick. */
  get nextDue(): number {
    return this.nextSweep === 0 ? 0 : Math.min(this.nextSweep, this.nextReport);
  }

  /** Periodic work, driven by capture time. */
  tick(now: number): void {
    if (this.nextSweep === 0) {
      this.nextSweep = Math.floor(now) + 1;
      this.nextReport = now + this.reportInterval;
      return;
    }
    this.nextSweep = Math.floor(now) + 1;
    this.bypassNow = now;
    this.bypassTable?.poll(this.bypassed);
    this.expire(now);
    if (now >= this.nextReport) {
      this.nextReport = now + this.reportInterval;
      if (this.opts.reportSlice) {
        if (this.reportCursor < 0) this.reportCursor = 0;
      } else {
        this.report();
      }
    }
  }

  private expire(now: number): void {
    const t = this.table;
    for (let row = t.count - 1; row >= 0; row--) {
      if (now - t.lastSeen[row] > idleTimeout(t.proto[row], t.state[row])) this.endSession(row, 'idle');
    }
  }

  private makeRoom(now: number): void {
    this.expire(now);
    const t = this.table;
    if (t.count < t.capacity) return;
    const victim = t.oldestSample(32);
    t.evicted++;
    this.endSession(victim, 'evicted');
  }

  private endSession(row: number, why: 'idle' | 'evicted' | 'flush'): void {
    const t = this.table;
    this.bypassTable?.remove(row, this.bypassed);
    this.collect(row, true);
    const h = t.dpi[row];
    if (h >= 0) {
      const meta = this.dpi.close(h);
      if (meta) this.keep(row, meta);
      t.dpi[row] = -1;
    }
    if (this.opts.onFlowEnd) this.opts.onFlowEnd(this.flowRecord(row, why));
    t.remove(row);
  }

  /** Adds a row's unreported delta to the pending connection batch, if it is worth reporting. */
  private collect(row: number, ending = false): void {
    const t = this.table;
    const fl = t.flags[row];
    if ((fl & F.dirty) === 0) return;
    const violated = t.action[row] === Action.deny || t.action[row] === Action.violate;
    if ((fl & F.answered) === 0 && !violated && t.threatSev[row] === 0) return;
    // While DPI has not decided a young session's application, its delta waits (at most one
    // interval, never at its end): reported now, its first packets would stand as a separate
    // "unknown" record, with the verdict of before its policy arrived, beside the rest of the
    // same connection.
    if (!ending && (fl & F.dpiDone) === 0 && t.app[row] === APP_UNKNOWN && this.lastTs - t.firstSeen[row] < this.reportInterval) return;
    t.client(row, this.wA);
    const sp = t.server(row, this.wB);
    const workloadId = this.workloadOf(row);
    const client = formatAddress(this.wA);
    const server = formatAddress(this.wB);
    const proto = t.proto[row];
    const app = appName(t.app[row]);
    const direction = DIRECTION_NAMES[t.direction[row]];
    const ruleId = t.ruleId[row];
    const action = ACTION_NAMES[t.action[row] === Action.none ? Action.allow : t.action[row]];
    const key = `${workloadId}|${client}|${server}|${sp}|${proto}|${app}|${direction}|${ruleId}|${action}`;
    const r2 = row << 1;
    const newSession = (fl & F.counted) === 0;
    const record = this.connections.get(key) ?? this.connections.create(key, {
      workloadId, client, server, serverPort: sp, proto, app, direction, ruleId, action,
      bytesToServer: 0, bytesToClient: 0, packetsToServer: 0, packetsToClient: 0, sessions: 0,
      firstSeen: t.firstSeen[row], lastSeen: t.lastSeen[row], violations: 0, threatSeverity: 0,
    });
    addDelta(
      record,
      t.bytes[r2] - t.repBytes[r2],
      t.bytes[r2 + 1] - t.repBytes[r2 + 1],
      t.pkts[r2] - t.repPkts[r2],
      t.pkts[r2 + 1] - t.repPkts[r2 + 1],
      newSession,
      t.firstSeen[row],
      t.lastSeen[row],
      violated,
      t.threatSev[row],
    );
    t.repBytes[r2] = t.bytes[r2];
    t.repBytes[r2 + 1] = t.bytes[r2 + 1];
    t.repPkts[r2] = t.pkts[r2];
    t.repPkts[r2 + 1] = t.pkts[r2 + 1];
    t.flags[row] = (fl & ~F.dirty) | F.counted;
  }

  /** A sliced report is being built (see continueReport). */
  get reportPending(): boolean {
    return this.reportCursor >= 0;
  }

  /**
   * Advances a sliced report by up to `rows` session rows and emits the batch once every row was
   * visited. Rows that move behind the cursor meanwhile (removal moves the last row into a hole)
   * stay dirty and go into the next report: delayed, never lost or counted twice.
   */
  continueReport(rows: number): void {
    if (this.reportCursor < 0) return;
    const t = this.table;
    const end = Math.min(t.count, this.reportCursor + rows);
    for (let row = this.reportCursor; row < end; row++) this.collect(row);
    if (end < t.count) {
      this.reportCursor = end;
      return;
    }
    this.reportCursor = -1;
    this.emitReport();
  }

  /** Emits the connection records and DNS answers gathered since the last emission. */
  private emitReport(): void {
    const batch = this.connections.take();
    if (batch.length > 0 && this.opts.onConnections) this.opts.onConnections(batch);
    if (this.learnedDns.size > 0 && this.opts.onDnsAnswers) this.opts.onDnsAnswers(this.learnedDns.take());
  }

  /** Emits the connection batch for the interval that just ended. */
  report(): void {
    const t = this.table;
    for (let row = 0; row < t.count; row++) this.collect(row);
    this.emitReport();
  }

  /**
   * A tap is gone: its sessions are ended and their last deltas emitted now, under its workload.
   * Once the port is forgotten nothing names their workload, so a later report would give them to
   * nobody. Returns false for a port not registered.
   */
  removePort(ifindex: number): boolean {
    if (!this.ports.get(ifindex)) return false;
    const t = this.table;
    for (let row = t.count - 1; row >= 0; row--) if (t.ifindex[row] === ifindex) this.endSession(row, 'flush');
    this.emitReport();
    return this.ports.delete(ifindex);
  }

  /** Ends every session (end of a capture file, or shutdown) and emits the last reports. */
  flush(): void {
    const t = this.table;
    this.reportCursor = -1;
    for (let row = t.count - 1; row >= 0; row--) this.endSession(row, 'flush');
    this.emitReport();
    this.threatLog.flush(this.lastTs);
  }

  flowRecord(row: number, end: FlowRecord['end']): FlowRecord {
    const t = this.table;
    const cp = t.client(row, this.wA);
    const sp = t.server(row, this.wB);
    const r2 = row << 1;
    const proto = t.proto[row];
    const meta = t.meta[row] as FlowMeta | undefined;
    const policy = this.policyOf(row);
    return {
      l4: proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : proto === 1 ? 'ICMP' : proto === 58 ? 'ICMPv6' : `IP/${proto}`,
      client: formatEndpoint(this.wA, cp),
      server: formatEndpoint(this.wB, sp),
      app: appName(t.app[row]),
      workloadId: this.workloadOf(row),
      direction: DIRECTION_NAMES[t.direction[row]],
      packetsToServer: t.pkts[r2],
      packetsToClient: t.pkts[r2 + 1],
      bytesToServer: t.bytes[r2],
      bytesToClient: t.bytes[r2 + 1],
      firstSeen: t.firstSeen[row],
      lastSeen: t.lastSeen[row],
      state: proto === 6 ? TCP_STATE_NAMES[t.state[row]] : (t.flags[row] & F.answered) !== 0 ? 'answered' : 'unanswered',
      end,
      meta: meta && hasFindings(meta) ? meta : undefined,
      verdict: policy ? ACTION_NAMES[t.action[row]] : undefined,
      ruleId: policy ? t.ruleId[row] : undefined,
      threatSeverity: t.threatSev[row],
    };
  }

  counters(): DataPlaneCounters {
    const byReason: Record<string, number> = {};
    for (let i = 1; i < MALFORMED_REASONS.length; i++) if (this.malformedCounts[i] > 0) byReason[MALFORMED_REASONS[i]] = this.malformedCounts[i];
    return {
      packets: this.packets,
      bytes: this.bytes,
      malformed: this.malformed,
      malformedByReason: byReason,
      nonIp: this.nonIp,
      fragments: this.fragments,
      sessionsCreated: this.sessionsCreated,
      sessionsActive: this.table.count,
      sessionsEvicted: this.table.evicted,
      dpiActive: this.dpi.active,
      dpiOverflow: this.dpi.overflow,
      dpiRetired: this.dpi.retired,
      threats: this.threatLog.total,
      unknownPort: this.unknownPort,
      bypassActive: this.bypassTable?.count ?? 0,
      bypassPackets: this.bypassTable?.packets ?? 0,
      bypassBytes: this.bypassTable?.bytes ?? 0,
      bypassFull: this.bypassTable?.full ?? 0,
    };
  }
}

function hasFindings(m: FlowMeta): boolean {
  for (const k in m) if (k !== 'app' && (m as unknown as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}
