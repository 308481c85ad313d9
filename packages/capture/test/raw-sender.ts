// Sends one hand-built Ethernet frame from an AF_PACKET socket in a namespace. Node has no packet
// sockets, so a few lines of Python do the send; the frame itself is built here.
import { inNetns } from './netns-pair.js';

export function sendRawFrame(ns: string, ifname: string, frame: Uint8Array): void {
  const script = 'import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n' +
    's.bind((sys.argv[1],0))\ns.send(bytes.fromhex(sys.stdin.read()))\n';
  inNetns(ns, 'python3', ['-c', script, ifname], Buffer.from(frame).toString('hex'));
}

export function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}
