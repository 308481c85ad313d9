// Drains a capture into plain objects for assertions (tests may allocate; the hot path may not).
import {
  type Batch, type Capture, FRAME_CAPLEN, FRAME_IFINDEX, FRAME_NSEC, FRAME_OFFSET, FRAME_PKTTYPE,
  FRAME_SEC, FRAME_VLAN, FRAME_WIRELEN, FRAME_WORDS,
} from '../index.js';

export interface Frame {
  bytes: Uint8Array; // a copy: the ring block goes back to the kernel after each batch
  capLen: number;
  wireLen: number;
  ifindex: number;
  sec: number;
  nsec: number;
  vlan: number;
  pktType: number;
}

export function framesOf(batch: Batch): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < batch.count; i++) {
    const w = batch.index.subarray(i * FRAME_WORDS, (i + 1) * FRAME_WORDS);
    out.push({
      bytes: new Uint8Array(batch.buffer, w[FRAME_OFFSET], w[FRAME_CAPLEN]).slice(),
      capLen: w[FRAME_CAPLEN],
      wireLen: w[FRAME_WIRELEN],
      ifindex: w[FRAME_IFINDEX],
      sec: w[FRAME_SEC],
      nsec: w[FRAME_NSEC],
      vlan: w[FRAME_VLAN],
      pktType: w[FRAME_PKTTYPE],
    });
  }
  return out;
}

/** Reads batches until `want` frames pass `keep` or `waitMs` elapses; returns the kept frames. */
export function collect(cap: Capture, keep: (f: Frame) => boolean, want: number, waitMs = 5000): Frame[] {
  const kept: Frame[] = [];
  const deadline = Date.now() + waitMs;
  while (kept.length < want && Date.now() < deadline) {
    const batch = cap.next(50);
    if (batch === null) continue;
    try {
      for (const f of framesOf(batch)) if (keep(f)) kept.push(f);
    } finally {
      cap.release();
    }
  }
  return kept;
}

/** True for an untagged IPv4/UDP frame to `port` carrying the test marker "MSEG". */
export function isTestDatagram(f: Frame, port: number): boolean {
  const b = f.bytes;
  if (b.length < 46 || b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 17) return false;
  const l4 = 14 + (b[14] & 0x0f) * 4;
  return ((b[l4 + 2] << 8) | b[l4 + 3]) === port && b[l4 + 8] === 0x4d && b[l4 + 9] === 0x53;
}

export function seqOf(f: Frame): number {
  const l4 = 14 + (f.bytes[14] & 0x0f) * 4;
  return new DataView(f.bytes.buffer, f.bytes.byteOffset).getUint32(l4 + 12);
}
