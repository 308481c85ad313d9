/**
 * The DP's side of the session bypass: which sessions it has put into the kernel's bypass map
 * (layout.ts), and what of their counts it has already taken. A session goes in once the DP has
 * nothing more to learn from its segments (TCP, DPI finished); from then on the mirror program
 * counts its data segments in the map instead of copying them, and still copies SYN, FIN and RST.
 * Every second the DP reads the counters of all bypassed sessions in one call and adds what grew
 * to the sessions; a session's entries are read one last time and deleted when it ends.
 *
 * Slots are packed densely (0..count-1) so one lookup call covers exactly the live keys: removal
 * moves the last slot into the hole, as the session table does with rows.
 */
import { bpfMapClear, bpfMapDelete, bpfMapInfo, bpfMapLookup, bpfMapUpdate, bpfObjGet, closeFd } from '@mseg/capture';
import { isBypassMap, KEY_SIZE, MAP_SESSIONS, VALUE_BYTES, VALUE_PACKETS, VALUE_SIZE, writeKey } from './layout.js';

/** Two keys per session: client → server, then server → client. */
const SLOT_KEYS = KEY_SIZE * 2;
const SLOT_VALUES = VALUE_SIZE * 2;
const BPF_ANY = 0;

/** A host-order u64 counter as a number, without a BigInt per read (counters stay below 2^53). */
function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
}

/** What grew since the last read, per direction. */
export type BypassDelta = (row: number, pktsToServer: number, bytesToServer: number, pktsToClient: number, bytesToClient: number) => void;

export class BypassTable {
  count = 0;
  /** Sessions that could not go in because the map was full (they stay mirrored). */
  full = 0;
  /** Packets and bytes counted by the kernel instead of copied, since start. */
  packets = 0;
  bytes = 0;

  private readonly keys = new Uint8Array(MAP_SESSIONS * SLOT_KEYS);
  private readonly keyView = new DataView(this.keys.buffer);
  private readonly values = new Uint8Array(MAP_SESSIONS * SLOT_VALUES);
  private readonly valueView = new DataView(this.values.buffer);
  private readonly zeros = new Uint8Array(SLOT_VALUES);
  /** Per slot: packets and bytes to server, packets and bytes to client, as last read. */
  private readonly seen = new Float64Array(MAP_SESSIONS * 4);
  private readonly slotRow = new Int32Array(MAP_SESSIONS);
  private readonly rowSlot: Int32Array;

  /** The map's kernel id: a pin naming another id means the agent made a new map. */
  readonly mapId: number;

  /** `fd`: the bypass map, owned by this table from now on. `rows`: the session table's capacity. */
  constructor(private readonly fd: number, rows: number) {
    this.rowSlot = new Int32Array(rows).fill(-1);
    this.mapId = bpfMapInfo(fd).id;
  }

  /** The id of the map pinned at `path` now; null when nothing is pinned there. */
  static pinnedId(path: string): number | null {
    let fd: number;
    try {
      fd = bpfObjGet(path);
    } catch {
      return null;
    }
    try {
      return bpfMapInfo(fd).id;
    } finally {
      closeFd(fd);
    }
  }

  /**
   * Opens the pinned map the agent made and empties it: entries of an earlier DP name sessions
   * this one does not know, whose segments must reach it again.
   */
  static open(path: string, rows: number): BypassTable {
    const fd = bpfObjGet(path);
    try {
      const info = bpfMapInfo(fd);
      if (!isBypassMap(info)) throw new Error(`${path} is not a bypass map (type ${info.type}, key ${info.keySize} B, value ${info.valueSize} B, name "${info.name}")`);
      bpfMapClear(fd, KEY_SIZE);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    return new BypassTable(fd, rows);
  }

  has(row: number): boolean {
    return this.rowSlot[row] >= 0;
  }

  /**
   * Puts a session in: the kernel stops copying its data segments. Returns false when the map
   * is full (the session stays mirrored). Addresses as four words each (net/address.ts).
   */
  add(row: number, port: number, client: ArrayLike<number>, clientPort: number, server: ArrayLike<number>, serverPort: number): boolean {
    if (this.rowSlot[row] >= 0) return true;
    if (this.count >= MAP_SESSIONS) {
      this.full++;
      return false;
    }
    const slot = this.count;
    const at = slot * SLOT_KEYS;
    writeKey(this.keyView, at, port, client, clientPort, server, serverPort);
    writeKey(this.keyView, at + KEY_SIZE, port, server, serverPort, client, clientPort);
    const keys = this.keys.subarray(at, at + SLOT_KEYS);
    const written = bpfMapUpdate(this.fd, keys, KEY_SIZE, this.zeros, VALUE_SIZE, BPF_ANY);
    if (written < 2) {
      if (written > 0) bpfMapDelete(this.fd, keys, KEY_SIZE);
      this.full++;
      return false;
    }
    this.seen.fill(0, slot * 4, slot * 4 + 4);
    this.slotRow[slot] = row;
    this.rowSlot[row] = slot;
    this.count++;
    return true;
  }

  /** Reads every bypassed session's counters and reports those that grew. */
  poll(onDelta: BypassDelta): void {
    if (this.count === 0) return;
    bpfMapLookup(this.fd, this.keys.subarray(0, this.count * SLOT_KEYS), KEY_SIZE, this.values, VALUE_SIZE);
    for (let slot = 0; slot < this.count; slot++) this.take(slot, onDelta);
  }

  /** A session ends: its last counts are reported, then its entries deleted. */
  remove(row: number, onDelta: BypassDelta): void {
    const slot = this.rowSlot[row];
    if (slot < 0) return;
    const at = slot * SLOT_KEYS;
    const keys = this.keys.subarray(at, at + SLOT_KEYS);
    bpfMapLookup(this.fd, keys, KEY_SIZE, this.values.subarray(slot * SLOT_VALUES, (slot + 1) * SLOT_VALUES), VALUE_SIZE);
    this.take(slot, onDelta);
    bpfMapDelete(this.fd, keys, KEY_SIZE);
    this.rowSlot[row] = -1;
    const last = this.count - 1;
    if (slot !== last) {
      this.keys.copyWithin(at, last * SLOT_KEYS, (last + 1) * SLOT_KEYS);
      this.seen.copyWithin(slot * 4, last * 4, last * 4 + 4);
      const moved = this.slotRow[last];
      this.slotRow[slot] = moved;
      this.rowSlot[moved] = slot;
    }
    this.count = last;
  }

  /** The session table moved a row (its removal filled a hole). */
  move(from: number, to: number): void {
    const slot = this.rowSlot[from];
    this.rowSlot[to] = slot;
    this.rowSlot[from] = -1;
    if (slot >= 0) this.slotRow[slot] = to;
  }

  /** Deletes every entry: the sessions' segments are copied again. */
  clear(): void {
    bpfMapClear(this.fd, KEY_SIZE);
    for (let slot = 0; slot < this.count; slot++) this.rowSlot[this.slotRow[slot]] = -1;
    this.count = 0;
  }

  /** Shutdown: no DP counts any more, so nothing is left bypassed. */
  close(): void {
    this.clear();
    closeFd(this.fd);
  }

  private take(slot: number, onDelta: BypassDelta): void {
    const v = this.valueView;
    const o = slot * SLOT_VALUES;
    const s = slot * 4;
    const seen = this.seen;
    const p0 = u64(v, o + VALUE_PACKETS);
    const b0 = u64(v, o + VALUE_BYTES);
    const p1 = u64(v, o + VALUE_SIZE + VALUE_PACKETS);
    const b1 = u64(v, o + VALUE_SIZE + VALUE_BYTES);
    if (p0 === seen[s] && p1 === seen[s + 2]) return;
    const dp0 = p0 - seen[s];
    const db0 = b0 - seen[s + 1];
    const dp1 = p1 - seen[s + 2];
    const db1 = b1 - seen[s + 3];
    seen[s] = p0;
    seen[s + 1] = b0;
    seen[s + 2] = p1;
    seen[s + 3] = b1;
    this.packets += dp0 + dp1;
    this.bytes += db0 + db1;
    onDelta(this.slotRow[slot], dp0, db0, dp1, db1);
  }
}
