/**
 * The deny log of Protect containers. NFLOG sockets belong to one network namespace, so each
 * Protect container gets its own reader: `tcpdump -i nflog:<group>` run inside its namespace
 * (nsenter), writing pcap to a pipe we parse. A reader that exits is restarted with backoff for
 * as long as its workload is in Protect. Each denied packet becomes a DenyRecord.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { decodeNflog, LINKTYPE_NFLOG, PcapStream } from './nflog.js';
import { NFLOG_GROUP, NFLOG_SNAPLEN } from './nft-script.js';
import type { DenyRecord } from './types.js';

export interface DenyLogOptions {
  onDeny(record: DenyRecord): void;
  onError?(workloadId: string, message: string): void;
  /** The reader command for a namespace (tests may wrap it); default nsenter + tcpdump. */
  command?(netns: string): string[];
}

interface Reader {
  netns: string;
  child: ChildProcess | null;
  ready: boolean;
  waiters: (() => void)[];
  failures: number;
  timer: NodeJS.Timeout | null;
  stopped: boolean;
}

const PREFIX = /^mseg:(in|out):(\d+)$/;

/**
 * The reader dies with the agent (parent-death signal): an agent killed with SIGKILL would
 * otherwise leave readers that hold their container's namespace alive and, after its restart,
 * double every deny. `-Z root` keeps tcpdump from switching to its own user, which would clear
 * the parent-death signal.
 */
export function defaultCommand(netns: string): string[] {
  return [
    'nsenter', `--net=${netns}`, '--',
    'setpriv', '--pdeathsig', 'KILL', '--',
    'tcpdump', '-Z', 'root', '-i', `nflog:${NFLOG_GROUP}`, '-U', '-w', '-', '-s', String(NFLOG_SNAPLEN + 64), '--immediate-mode',
  ];
}

export class DenyLog {
  private readonly readers = new Map<string, Reader>();

  constructor(private readonly opts: DenyLogOptions) {}

  /** Reads the log of exactly these workloads (id → netns); stops the others. */
  set(workloads: ReadonlyMap<string, string>): void {
    for (const [id, r] of this.readers) {
      if (workloads.get(id) !== r.netns) this.stopOne(id);
    }
    for (const [id, netns] of workloads) if (!this.readers.has(id)) this.startOne(id, netns);
  }

  /** Resolves once the reader of this workload listens (denies before that are not seen). */
  ready(workloadId: string, timeoutMs = 5000): Promise<void> {
    const r = this.readers.get(workloadId);
    if (!r) return Promise.reject(new Error(`no deny-log reader for ${workloadId}`));
    if (r.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`deny-log reader for ${workloadId} not ready after ${timeoutMs} ms`)), timeoutMs);
      r.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): void {
    for (const id of [...this.readers.keys()]) this.stopOne(id);
  }

  private startOne(workloadId: string, netns: string): void {
    const r: Reader = { netns, child: null, ready: false, waiters: [], failures: 0, timer: null, stopped: false };
    this.readers.set(workloadId, r);
    this.launch(workloadId, r);
  }

  private launch(workloadId: string, r: Reader): void {
    const argv = (this.opts.command ?? defaultCommand)(r.netns);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    const pcap = new PcapStream();
    child.stderr!.on('data', (d: Buffer) => {
      // tcpdump says "listening on nflog:N" once its socket is bound to the group.
      if (!r.ready && d.toString().includes('listening on')) {
        r.ready = true;
        r.failures = 0;
        for (const w of r.waiters.splice(0)) w();
      }
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      let records;
      try {
        records = pcap.push(chunk);
      } catch (err) {
        this.opts.onError?.(workloadId, (err as Error).message);
        child.kill('SIGKILL');
        return;
      }
      if (pcap.linktype !== LINKTYPE_NFLOG) return;
      for (const rec of records) {
        const p = decodeNflog(rec.data, pcap.littleEndian);
        const m = p && PREFIX.exec(p.prefix);
        if (!p || !m) continue;
        this.opts.onDeny({
          workloadId,
          action: 'deny',
          ruleId: Number(m[2]),
          direction: m[1] === 'in' ? 'ingress' : 'egress',
          proto: p.proto,
          src: p.src,
          dst: p.dst,
          srcPort: p.srcPort,
          dstPort: p.dstPort,
          at: rec.at,
        });
      }
    });
    child.on('error', (err) => this.opts.onError?.(workloadId, err.message));
    child.on('close', (code, signal) => {
      r.child = null;
      r.ready = false;
      if (r.stopped) return;
      r.failures++;
      this.opts.onError?.(workloadId, `deny-log reader exited (${signal ?? code}); restarting`);
      const delay = Math.min(60_000, 100 * 2 ** (r.failures - 1));
      r.timer = setTimeout(() => {
        r.timer = null;
        if (!r.stopped) this.launch(workloadId, r);
      }, delay);
      r.timer.unref();
    });
  }

  private stopOne(workloadId: string): void {
    const r = this.readers.get(workloadId);
    if (!r) return;
    r.stopped = true;
    if (r.timer) clearTimeout(r.timer);
    r.child?.kill('SIGKILL');
    this.readers.delete(workloadId);
  }
}
