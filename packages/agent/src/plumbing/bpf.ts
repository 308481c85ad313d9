/**
 * The bpf(2) calls and bpf filesystem paths plumbing uses (the bypass map, the mirror programs),
 * as one narrow interface like Rtnl: the agent's are @mseg/capture's synchronous calls and
 * node:fs, unit tests pass the fake kernel.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as sys from '@mseg/capture';
import type { BpfMapInfo } from '@mseg/capture';

export type { BpfMapInfo };

export interface Bpf {
  /** Whether `path` is on a mounted bpf filesystem. */
  isBpfFs(path: string): boolean;
  /** Opens what is pinned at `path`; null when nothing is. */
  objGet(path: string): number | null;
  objPin(fd: number, path: string): void;
  mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, name: string): number;
  mapInfo(fd: number): BpfMapInfo;
  progLoad(type: number, insns: Uint8Array, license: string, name: string): number;
  close(fd: number): void;
  /** Makes the directory (and its parents) on the bpf filesystem. */
  mkdir(path: string): void;
  /** Removes a pin, or a directory of pins with all it holds; a missing one is done. */
  remove(path: string): void;
}

export class SysBpf implements Bpf {
  isBpfFs(path: string): boolean {
    return sys.isBpfFs(path);
  }

  objGet(path: string): number | null {
    try {
      return sys.bpfObjGet(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  }

  objPin(fd: number, path: string): void {
    sys.bpfObjPin(fd, path);
  }

  mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, name: string): number {
    return sys.bpfMapCreate(type, keySize, valueSize, maxEntries, name);
  }

  mapInfo(fd: number): BpfMapInfo {
    return sys.bpfMapInfo(fd);
  }

  progLoad(type: number, insns: Uint8Array, license: string, name: string): number {
    return sys.bpfProgLoad(type, insns, license, name);
  }

  close(fd: number): void {
    sys.closeFd(fd);
  }

  mkdir(path: string): void {
    mkdirSync(path, { recursive: true });
  }

  remove(path: string): void {
    // Unlinking a pin drops the file's reference; the object lives on while descriptors or filters hold it.
    rmSync(path, { recursive: true, force: true });
  }
}
