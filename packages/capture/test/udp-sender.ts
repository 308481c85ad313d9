// Sends test datagrams from inside a namespace with a child Node process, so that the frames cross
// the veth pair as real kernel traffic.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inNetns } from './netns-pair.js';

/** Payload of datagram `seq`: "MSEG", seq as big-endian uint32, then bytes (seq + i) & 0xff. */
export function testPayload(seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  p.set([0x4d, 0x53, 0x45, 0x47]);
  new DataView(p.buffer).setUint32(4, seq);
  for (let i = 8; i < size; i++) p[i] = (seq + i) & 0xff;
  return p;
}

const senderScript = `
const dgram = require('node:dgram');
const [host, port, count, size] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
let seq = 0;
function one() {
  if (seq === Number(count)) return s.close();
  const p = Buffer.alloc(Number(size));
  p.write('MSEG');
  p.writeUInt32BE(seq, 4);
  for (let i = 8; i < p.length; i++) p[i] = (seq + i) & 0xff;
  seq++;
  s.send(p, Number(port), host, (err) => { if (err) throw err; one(); });
}
one();
`;

function senderArgs(host: string, port: number, count: number, size: number): string[] {
  return ['-e', senderScript, host, String(port), String(count), String(size)];
}

/** Sends `count` datagrams of `size` bytes, waiting until the sender exits. */
export function sendUdp(ns: string, host: string, port: number, count: number, size: number): void {
  inNetns(ns, process.execPath, senderArgs(host, port, count, size));
}

/** Same as sendUdp without blocking the event loop (for watch() tests). */
export async function sendUdpAsync(ns: string, host: string, port: number, count: number, size: number): Promise<void> {
  await promisify(execFile)('ip', ['netns', 'exec', ns, process.execPath, ...senderArgs(host, port, count, size)], {
    timeout: 30_000,
  });
}
