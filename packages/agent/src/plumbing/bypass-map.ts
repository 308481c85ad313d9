/**
 * The session bypass map (layout in @mseg/dp's bypass/layout.ts), pinned on the bpf filesystem so
 * that the mirror programs of every tap, the DP and the next agent all find the same map. The
 * agent keeps a descriptor open for its life (programs are loaded against it); a pinned map of
 * another layout (an earlier version's) or anything else at the path is replaced.
 */
import { isBypassMap, KEY_SIZE, MAP_ENTRIES, MAP_NAME, MAP_TYPE_HASH, VALUE_SIZE } from '@mseg/dp';
import type { Bpf } from './bpf.js';

export interface BypassMap {
  /** Descriptor in this process. */
  fd: number;
  /** The kernel's map id: filters name the map their program reads by it. */
  id: number;
  path: string;
}

export class BypassMapPin {
  private map: BypassMap | null = null;

  constructor(private readonly bpf: Bpf) {}

  get current(): BypassMap | null {
    return this.map;
  }

  /** The map pinned at `path`: the one already open if the pin still names it, else adopted or made. */
  ensure(path: string): BypassMap {
    if (this.map && this.map.path === path && this.pinnedId(path) === this.map.id) return this.map;
    this.release();
    const fd = this.bpf.objGet(path);
    if (fd !== null) {
      const id = this.ours(fd);
      if (id !== null) return (this.map = { fd, id, path });
      this.bpf.close(fd);
    }
    // Nothing pinned, or not our map: whatever is there goes, a new map takes its place.
    this.bpf.remove(path);
    const made = this.bpf.mapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, MAP_ENTRIES, MAP_NAME);
    try {
      this.bpf.objPin(made, path);
      return (this.map = { fd: made, id: this.bpf.mapInfo(made).id, path });
    } catch (err) {
      this.bpf.close(made);
      throw err;
    }
  }

  /** Closes our descriptor (the pin, and filters' programs, keep the map alive). */
  release(): void {
    if (this.map) this.bpf.close(this.map.fd);
    this.map = null;
  }

  /** The id of the map pinned at `path` when it is ours; null for nothing or anything else. */
  private pinnedId(path: string): number | null {
    const fd = this.bpf.objGet(path);
    if (fd === null) return null;
    try {
      return this.ours(fd);
    } finally {
      this.bpf.close(fd);
    }
  }

  private ours(fd: number): number | null {
    let info;
    try {
      info = this.bpf.mapInfo(fd);
    } catch (err) {
      // Not a map (a pinned program, say): not ours.
      if ((err as { code?: string }).code === 'EINVAL') return null;
      throw err;
    }
    return isBypassMap(info) ? info.id : null;
  }
}
