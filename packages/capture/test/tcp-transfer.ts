// One TCP transfer between the namespaces: a server process in one, a client in the other. Large
// writes over veth leave the sender as TSO super-frames, which is what the GSO test needs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { inNetns } from './netns-pair.js';

const serverScript = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
let n = 0;
const srv = net.createServer((s) => {
  s.on('data', (d) => { n += d.length; });
  s.on('end', () => { console.log(n); s.end(); srv.close(); });
});
srv.listen(Number(port), host, () => console.log('up'));
setTimeout(() => process.exit(3), 20000).unref();
`;

const clientScript = `
const net = require('node:net');
const [host, port, bytes] = process.argv.slice(1);
const s = net.connect(Number(port), host, () => s.end(Buffer.alloc(Number(bytes), 0x61)));
s.on('data', () => {});
`;

/** Sends `bytes` from clientNs to a server at host:port in serverNs; returns what the server got. */
export async function transferTcp(serverNs: string, clientNs: string, host: string, port: number, bytes: number): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', serverNs, process.execPath, '-e', serverScript, host, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (d: string) => { out += d; });
    while (!out.includes('up\n')) {
      if (server.exitCode !== null) throw new Error(`tcp server exited with ${server.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    inNetns(clientNs, process.execPath, ['-e', clientScript, host, String(port), String(bytes)]);
    if (server.exitCode === null) await once(server, 'exit');
    return Number(out.split('\n')[1]);
  } finally {
    if (server.exitCode === null) server.kill();
  }
}
