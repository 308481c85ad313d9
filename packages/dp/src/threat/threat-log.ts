/**
 * Threat logs leave the data plane de-duplicated per (threat, workload) and rate-limited: within
 * `window` seconds the first detection is logged and the rest are only counted, then carried in
 * the next log of that key, so a flood produces a handful of records, not millions.
 */
import { threatDef, type SeverityName } from './catalog.js';

export interface ThreatRecord {
  id: number;
  name: string;
  severity: SeverityName;
  /** Capture time of the first detection this record stands for, seconds. */
  ts: number;
  workloadId: string;
  /** Endpoints as `ip:port` (IPv6 `[addr]:port`); for L3 threats the packet's source and destination. */
  client: string;
  server: string;
  proto: number;
  app: string;
  detail: string;
  /** Detections this record stands for (1 + those suppressed since the previous record). */
  count: number;
}

export interface ThreatLogOptions {
  /** De-duplication window per (threat, workload), seconds. */
  window: number;
  /** Records per second at most, over all keys. */
  maxPerSecond: number;
}

const MAX_KEYS = 65_536;

export class ThreatLog {
  private readonly last = new Map<string, { ts: number; suppressed: number }>();
  private second = -1;
  private inSecond = 0;
  /** Detections not logged because of the global rate limit. */
  dropped = 0;
  total = 0;

  constructor(
    private readonly emit: (r: ThreatRecord) => void,
    private readonly opts: ThreatLogOptions = { window: 10, maxPerSecond: 200 },
  ) {}

  report(id: number, ts: number, workloadId: string, client: string, server: string, proto: number, app: string, detail: string): void {
    const def = threatDef(id);
    if (!def) return;
    this.total++;
    const key = `${id}|${workloadId}`;
    const prev = this.last.get(key);
    if (prev && ts - prev.ts < this.opts.window) {
      prev.suppressed++;
      return;
    }
    const sec = Math.floor(ts);
    if (sec !== this.second) {
      this.second = sec;
      this.inSecond = 0;
    }
    if (this.inSecond >= this.opts.maxPerSecond) {
      this.dropped++;
      if (prev) prev.suppressed++;
      return;
    }
    this.inSecond++;
    const count = 1 + (prev ? prev.suppressed : 0);
    if (prev) {
      prev.ts = ts;
      prev.suppressed = 0;
    } else {
      if (this.last.size >= MAX_KEYS) {
        const oldest = this.last.keys().next().value;
        if (oldest !== undefined) this.last.delete(oldest);
      }
      this.last.set(key, { ts, suppressed: 0 });
    }
    this.emit({ id, name: def.name, severity: def.severity, ts, workloadId, client, server, proto, app, detail, count });
  }

  /** Emits one record per key whose detections were suppressed and not yet carried. */
  flush(ts: number): void {
    for (const [key, v] of this.last) {
      if (v.suppressed === 0) continue;
      const [idText, workloadId] = key.split('|');
      const def = threatDef(Number(idText));
      if (!def) continue;
      this.emit({
        id: def.id, name: def.name, severity: def.severity, ts, workloadId, client: '', server: '', proto: 0, app: '',
        detail: `${v.suppressed} more detections since the last record`, count: v.suppressed,
      });
      v.suppressed = 0;
    }
  }
}
