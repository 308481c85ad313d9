import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bpfMapClear, bpfMapCreate, bpfMapDelete, bpfMapInfo, bpfMapLookup, bpfMapUpdate, bpfObjGet, bpfProgLoad, closeFd, isBpfFs,
} from '../index.js';

const HASH = 1;
const SCHED_CLS = 3;
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeFd(fd);
});

function map(entries = 4): number {
  const fd = bpfMapCreate(HASH, 4, 8, entries, 'mseg_test');
  fds.push(fd);
  return fd;
}

const keys = (...k: number[]): Uint8Array => new Uint8Array(Uint32Array.from(k).buffer);

describe('bpf(2) calls', () => {
  it('create a hash map and describe it', () => {
    expect(bpfMapInfo(map())).toMatchObject({ type: HASH, keySize: 4, valueSize: 8, maxEntries: 4, name: 'mseg_test' });
  });

  it('write, read, delete and clear keys in batches; a full map stops a write batch, it does not throw', () => {
    const fd = map(3);
    const values = new Uint8Array(32);
    new DataView(values.buffer).setBigUint64(8, 42n, true);
    expect(bpfMapUpdate(fd, keys(1, 2, 3, 4), 4, values, 8, 0)).toBe(3);
    const out = new Uint8Array(32).fill(0xff);
    expect(bpfMapLookup(fd, keys(2, 9, 1), 4, out, 8)).toBe(2);
    const v = new DataView(out.buffer);
    expect([v.getBigUint64(0, true), v.getBigUint64(8, true), v.getBigUint64(16, true)]).toEqual([42n, 0n, 0n]);
    expect(bpfMapDelete(fd, keys(1, 9), 4)).toBe(1);
    expect(bpfMapClear(fd, 4)).toBe(2);
    expect(bpfMapLookup(fd, keys(2, 3), 4, out, 8)).toBe(0);
  });

  it('name the argument that is wrong', () => {
    const fd = map();
    expect(() => bpfMapLookup(fd, keys(1).subarray(0, 3), 4, new Uint8Array(8), 8)).toThrow(/whole keys of keySize/);
    expect(() => bpfMapLookup(fd, keys(1, 2), 4, new Uint8Array(8), 8)).toThrow(/values must have room/);
    expect(() => bpfMapUpdate(fd, 'x' as never, 4, new Uint8Array(8), 8, 0)).toThrow(/keys must be a Uint8Array/);
    expect(() => bpfProgLoad(SCHED_CLS, new Uint8Array(7), 'GPL', 't')).toThrow(/whole number of 8-byte instructions/);
  });

  it('carry the verifier’s reason when a program is refused', () => {
    // r0 = *(u64 *)(r1 + 4096): out of the context's bounds.
    const bad = Uint8Array.of(0x79, 0x10, 0x00, 0x10, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
    expect(() => bpfProgLoad(SCHED_CLS, bad, 'GPL', 'mseg_bad')).toThrow(/BPF_PROG_LOAD.*\n.*invalid bpf_context access/s);
  });

  it('say ENOENT for nothing pinned, and tell a bpf filesystem from another', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mseg-bpf-'));
    try {
      expect(isBpfFs(dir)).toBe(false);
      expect(() => bpfObjGet(join(dir, 'none'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'bpf(BPF_OBJ_GET)' }));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
