/**
 * The session table: parallel typed-array columns, one row per session, packed densely (rows
 * 0..count-1), plus an open-addressing index (power-of-two, linear probing, `hash & mask`) from key
 * to row. No JS object per session, so a million sessions cost a fixed ~160 bytes each.
 *
 * Key = (port ifindex, IP protocol, the two endpoints in canonical order). Canonical order makes
 * both directions of a flow hit the same row; `clientIsA` remembers which endpoint is the client.
 * Removal moves the last row into the hole and repairs the index with backward-shift deletion, so
 * there are no tombstones and sweeps touch only live rows.
 */
import type { Packet } from '../decode/packet.js';

export const SessionFlag = {
  /** The server answered (TCP SYN-ACK or data both ways; UDP a reply). */
  answered: 1,
  /** Changed since the last connection report. */
  dirty: 2,
  /** Already counted as a new session in a connection report. */
  counted: 4,
  /** DPI finished (app known or given up). */
  dpiDone: 8,
  /** Policy verdict waits for the application. */
  appPending: 16,
  /** A SYN (no ACK) was seen from the client. */
  sawSyn: 32,
  /** Flow-cut already requested for this session. */
  cutRequested: 64,
  /** FIN seen from the client / from the server. */
  finClient: 128,
  finServer: 256,
  /** Application already announced to the agent for this session. */
  appAnnounced: 512,
} as const;

const EMPTY = -1;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

export class SessionTable {
  readonly capacity: number;
  count = 0;
  /** Sessions removed to make room for new ones while the table was full. */
  evicted = 0;
  /** Told when remove() moves row `from` into `to`, so holders of row numbers can follow. */
  onMove: ((from: number, to: number) => void) | null = null;

  private readonly index: Int32Array;
  private readonly mask: number;

  readonly hash: Uint32Array;
  /** 8 words per row: endpoint A (4 words) then endpoint B (4 words). */
  readonly addr: Uint32Array;
  /** portA << 16 | portB */
  readonly ports: Uint32Array;
  readonly proto: Uint8Array;
  readonly ifindex: Uint32Array;

  readonly clientIsA: Uint8Array;
  readonly state: Uint8Array;
  readonly app: Uint16Array;
  readonly flags: Uint16Array;
  /** 0 none (capture file), 1 ingress, 2 egress, as seen from the port's workload. */
  readonly direction: Uint8Array;
  readonly firstSeen: Float64Array;
  readonly lastSeen: Float64Array;
  /** [toServer, toClient] per row. */
  readonly pkts: Uint32Array;
  readonly bytes: Float64Array;
  /** What the last connection report already counted, to emit deltas. */
  readonly repPkts: Uint32Array;
  readonly repBytes: Float64Array;
  readonly ruleId: Uint32Array;
  /** Policy action (policy/verdict.ts Action). */
  readonly action: Uint8Array;
  /** Worst threat severity seen (threat/catalog.ts Severity), 0 none. */
  readonly threatSev: Uint8Array;
  /** Threat severity already reported. */
  readonly violations: Uint16Array;
  /** Index into the DPI engine's live classifications, -1 none. */
  readonly dpi: Int32Array;
  /** Optional metadata object per row (DPI findings); moved with the row. */
  readonly meta: (object | undefined)[];

  constructor(capacity: number) {
    this.capacity = capacity;
    const slots = nextPow2(capacity * 2);
    this.index = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
    this.hash = new Uint32Array(capacity);
    this.addr = new Uint32Array(capacity * 8);
    this.ports = new Uint32Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.ifindex = new Uint32Array(capacity);
    this.clientIsA = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.app = new Uint16Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.direction = new Uint8Array(capacity);
    this.firstSeen = new Float64Array(capacity);
    this.lastSeen = new Float64Array(capacity);
    this.pkts = new Uint32Array(capacity * 2);
    this.bytes = new Float64Array(capacity * 2);
    this.repPkts = new Uint32Array(capacity * 2);
    this.repBytes = new Float64Array(capacity * 2);
    this.ruleId = new Uint32Array(capacity);
    this.action = new Uint8Array(capacity);
    this.threatSev = new Uint8Array(capacity);
    this.violations = new Uint16Array(capacity);
    this.dpi = new Int32Array(capacity);
    this.meta = new Array(capacity).fill(undefined);
  }

  /**
   * Finds the row of the packet's flow. Sets `lastIsA` to whether the packet's source is endpoint A.
   * Returns -1 when absent; `lastHash` then holds the hash for a following insert.
   */
  lookup(p: Packet): number {
    const s = p.src;
    const d = p.dst;
    // Canonical order: A is the smaller (address, port).
    let srcIsA = true;
    if (s[0] !== d[0]) srcIsA = s[0] < d[0];
    else if (s[1] !== d[1]) srcIsA = s[1] < d[1];
    else if (s[2] !== d[2]) srcIsA = s[2] < d[2];
    else if (s[3] !== d[3]) srcIsA = s[3] < d[3];
    else srcIsA = p.sport <= p.dport;
    this.lastIsA = srcIsA;
    const a = srcIsA ? s : d;
    const b = srcIsA ? d : s;
    const ports = srcIsA ? ((p.sport << 16) | p.dport) >>> 0 : ((p.dport << 16) | p.sport) >>> 0;
    this.lastPorts = ports;
    let h = Math.imul(p.proto ^ (p.ifindex << 8), 0x9e3779b1);
    h = Math.imul(h ^ a[0] ^ b[0], 0x85ebca6b);
    h = Math.imul(h ^ a[1] ^ b[1], 0xc2b2ae35);
    h = Math.imul(h ^ a[2] ^ b[2], 0x27d4eb2f);
    h = Math.imul(h ^ a[3], 0x165667b1);
    h = Math.imul(h ^ b[3], 0x9e3779b1);
    h = Math.imul(h ^ ports, 0x85ebca6b);
    h ^= h >>> 15;
    h >>>= 0;
    this.lastHash = h;
    const index = this.index;
    const mask = this.mask;
    const addr = this.addr;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const row = index[slot];
      if (row === EMPTY) return -1;
      if (this.hash[row] !== h || this.ports[row] !== ports || this.proto[row] !== p.proto || this.ifindex[row] !== p.ifindex) continue;
      const o = row << 3;
      if (
        addr[o] === a[0] && addr[o + 1] === a[1] && addr[o + 2] === a[2] && addr[o + 3] === a[3] &&
        addr[o + 4] === b[0] && addr[o + 5] === b[1] && addr[o + 6] === b[2] && addr[o + 7] === b[3]
      ) {
        return row;
      }
    }
  }

  lastIsA = true;
  lastHash = 0;
  lastPorts = 0;

  /** Adds a row for the packet last passed to lookup() (which returned -1). Caller ensures room. */
  insert(p: Packet): number {
    const row = this.count++;
    const h = this.lastHash;
    this.hash[row] = h;
    const o = row << 3;
    const a = this.lastIsA ? p.src : p.dst;
    const b = this.lastIsA ? p.dst : p.src;
    this.addr[o] = a[0];
    this.addr[o + 1] = a[1];
    this.addr[o + 2] = a[2];
    this.addr[o + 3] = a[3];
    this.addr[o + 4] = b[0];
    this.addr[o + 5] = b[1];
    this.addr[o + 6] = b[2];
    this.addr[o + 7] = b[3];
    this.ports[row] = this.lastPorts;
    this.proto[row] = p.proto;
    this.ifindex[row] = p.ifindex;
    this.clientIsA[row] = 1;
    this.state[row] = 0;
    this.app[row] = 0;
    this.flags[row] = 0;
    this.direction[row] = 0;
    this.firstSeen[row] = p.ts;
    this.lastSeen[row] = p.ts;
    const r2 = row << 1;
    this.pkts[r2] = this.pkts[r2 + 1] = 0;
    this.bytes[r2] = this.bytes[r2 + 1] = 0;
    this.repPkts[r2] = this.repPkts[r2 + 1] = 0;
    this.repBytes[r2] = this.repBytes[r2 + 1] = 0;
    this.ruleId[row] = 0;
    this.action[row] = 0;
    this.threatSev[row] = 0;
    this.violations[row] = 0;
    this.dpi[row] = -1;
    this.meta[row] = undefined;
    const mask = this.mask;
    let slot = h & mask;
    while (this.index[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.index[slot] = row;
    return row;
  }

  /** Removes a row; the last row moves into its place (callers iterating must go downwards). */
  remove(row: number): void {
    this.unlinkIndex(row);
    const last = --this.count;
    if (row !== last) {
      this.relinkIndex(last, row);
      this.copyRow(last, row);
      if (this.onMove) this.onMove(last, row);
    }
    this.meta[last] = undefined;
  }

  private findSlot(row: number): number {
    const mask = this.mask;
    for (let slot = this.hash[row] & mask; ; slot = (slot + 1) & mask) {
      if (this.index[slot] === row) return slot;
    }
  }

  /** Backward-shift deletion keeps every probe chain unbroken without tombstones. */
  private unlinkIndex(row: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = this.findSlot(row);
    for (let k = (hole + 1) & mask; ; k = (k + 1) & mask) {
      const r = index[k];
      if (r === EMPTY) break;
      const home = this.hash[r] & mask;
      // Entry at k may fill the hole unless its home lies cyclically in (hole, k].
      const inRange = hole <= k ? home > hole && home <= k : home > hole || home <= k;
      if (!inRange) {
        index[hole] = r;
        hole = k;
      }
    }
    index[hole] = EMPTY;
  }

  private relinkIndex(from: number, to: number): void {
    this.index[this.findSlot(from)] = to;
  }

  private copyRow(from: number, to: number): void {
    this.hash[to] = this.hash[from];
    this.addr.copyWithin(to << 3, from << 3, (from << 3) + 8);
    this.ports[to] = this.ports[from];
    this.proto[to] = this.proto[from];
    this.ifindex[to] = this.ifindex[from];
    this.clientIsA[to] = this.clientIsA[from];
    this.state[to] = this.state[from];
    this.app[to] = this.app[from];
    this.flags[to] = this.flags[from];
    this.direction[to] = this.direction[from];
    this.firstSeen[to] = this.firstSeen[from];
    this.lastSeen[to] = this.lastSeen[from];
    const f2 = from << 1;
    const t2 = to << 1;
    this.pkts[t2] = this.pkts[f2];
    this.pkts[t2 + 1] = this.pkts[f2 + 1];
    this.bytes[t2] = this.bytes[f2];
    this.bytes[t2 + 1] = this.bytes[f2 + 1];
    this.repPkts[t2] = this.repPkts[f2];
    this.repPkts[t2 + 1] = this.repPkts[f2 + 1];
    this.repBytes[t2] = this.repBytes[f2];
    this.repBytes[t2 + 1] = this.repBytes[f2 + 1];
    this.ruleId[to] = this.ruleId[from];
    this.action[to] = this.action[from];
    this.threatSev[to] = this.threatSev[from];
    this.violations[to] = this.violations[from];
    this.dpi[to] = this.dpi[from];
    this.meta[to] = this.meta[from];
  }

  /** Client endpoint words of a row, written into `out` (4 words); returns the client port. */
  client(row: number, out: Uint32Array): number {
    const o = (row << 3) + (this.clientIsA[row] ? 0 : 4);
    out[0] = this.addr[o];
    out[1] = this.addr[o + 1];
    out[2] = this.addr[o + 2];
    out[3] = this.addr[o + 3];
    return this.clientIsA[row] ? this.ports[row] >>> 16 : this.ports[row] & 0xffff;
  }

  server(row: number, out: Uint32Array): number {
    const o = (row << 3) + (this.clientIsA[row] ? 4 : 0);
    out[0] = this.addr[o];
    out[1] = this.addr[o + 1];
    out[2] = this.addr[o + 2];
    out[3] = this.addr[o + 3];
    return this.clientIsA[row] ? this.ports[row] & 0xffff : this.ports[row] >>> 16;
  }

  /** Row with the oldest last-seen among `samples` random rows (approximate LRU, O(samples)). */
  oldestSample(samples: number): number {
    let best = -1;
    let bestTs = Infinity;
    for (let i = 0; i < samples; i++) {
      const r = (Math.random() * this.count) | 0;
      if (this.lastSeen[r] < bestTs) {
        bestTs = this.lastSeen[r];
        best = r;
      }
    }
    return best;
  }
}
