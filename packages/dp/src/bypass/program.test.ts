// The mirror program run by the kernel over crafted frames (BPF_PROG_TEST_RUN): which segments it
// counts into the bypass map instead of copying. Copies go to an ifindex no device has, so a run
// sends nothing anywhere.
import { bpfMapCreate, bpfMapLookup, bpfMapUpdate, bpfProgLoad, bpfProgTestRun, closeFd } from '@mseg/capture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../net/address.js';
import { buildFrame, type FrameSpec } from '../testing/frame-builder.js';
import { KEY_SIZE, MAP_NAME, MAP_TYPE_HASH, VALUE_SIZE, writeKey } from './layout.js';
import { mirrorProgram, PROG_TYPE_SCHED_CLS, PROGRAM_LICENSE, PROGRAM_NAME } from './program.js';

const PORT = 7;
const NO_DEVICE = 0x7ffffff0;
const TC_ACT_UNSPEC = -1;
let map = -1;
let prog = -1;

beforeAll(() => {
  map = bpfMapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, 64, MAP_NAME);
  prog = bpfProgLoad(PROG_TYPE_SCHED_CLS, mirrorProgram({ mapFd: map, mirrorTo: NO_DEVICE, port: PORT }), PROGRAM_LICENSE, PROGRAM_NAME);
});

afterAll(() => {
  if (prog >= 0) closeFd(prog);
  if (map >= 0) closeFd(map);
});

function key(s: FrameSpec, port = PORT): Uint8Array {
  const k = new Uint8Array(KEY_SIZE);
  writeKey(new DataView(k.buffer), 0, port, parseAddress(s.src)!, s.sport ?? 0, parseAddress(s.dst)!, s.dport ?? 0);
  return k;
}

/** Puts the frame's direction into the map with zero counters, runs the program, returns the counters. */
function run(s: FrameSpec, frame = buildFrame(s), port = PORT): { ret: number; packets: number; bytes: number } {
  const k = key(s, port);
  expect(bpfMapUpdate(map, k, KEY_SIZE, new Uint8Array(VALUE_SIZE), VALUE_SIZE, 0)).toBe(1);
  const ret = bpfProgTestRun(prog, frame);
  const v = new Uint8Array(VALUE_SIZE);
  bpfMapLookup(map, k, KEY_SIZE, v, VALUE_SIZE);
  const dv = new DataView(v.buffer);
  return { ret, packets: Number(dv.getBigUint64(0, true)), bytes: Number(dv.getBigUint64(8, true)) };
}

const v4: FrameSpec = { src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', sport: 41000, dport: 80, flags: 'A', payload: 'x'.repeat(1000) };
const v6: FrameSpec = { ...v4, src: 'fd00::1', dst: 'fd00:0:0:1::2' };

describe('the mirror program', () => {
  it('counts a data segment of a bypassed IPv4 session (IP bytes) and passes it on', () => {
    expect(run(v4)).toEqual({ ret: TC_ACT_UNSPEC, packets: 1, bytes: 20 + 20 + 1000 });
  });

  it('counts a data segment of a bypassed IPv6 session (payload length + 40)', () => {
    expect(run(v6)).toEqual({ ret: TC_ACT_UNSPEC, packets: 1, bytes: 40 + 20 + 1000 });
  });

  it('copies rather than counts what the DP still needs', () => {
    for (const flags of ['S', 'SA', 'FA', 'R', 'RA']) expect(run({ ...v4, flags }), flags).toEqual({ ret: TC_ACT_UNSPEC, packets: 0, bytes: 0 });
    expect(run({ ...v6, flags: 'S' })).toMatchObject({ packets: 0 });
    expect(run({ ...v4, proto: 'udp' })).toMatchObject({ packets: 0 });
    expect(run({ ...v4, moreFragments: true, ipId: 9 })).toMatchObject({ packets: 0 });
  });

  it('copies a segment whose session is not in the map, or is another port’s', () => {
    const other = { ...v4, sport: 41001 };
    expect(bpfProgTestRun(prog, buildFrame(other))).toBe(TC_ACT_UNSPEC);
    expect(bpfMapLookup(map, key(other), KEY_SIZE, new Uint8Array(VALUE_SIZE), VALUE_SIZE)).toBe(0);
    expect(run(v4, buildFrame(v4), PORT + 1)).toMatchObject({ packets: 0 });
  });

  it('copies frames too short for their headers, and non-IP frames', () => {
    const full = buildFrame(v4);
    expect(run(v4, full.subarray(0, 14 + 20 + 10))).toMatchObject({ ret: TC_ACT_UNSPEC, packets: 0 });
    const arp = full.slice(0, 60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(run(v4, arp)).toMatchObject({ packets: 0 });
  });
});
