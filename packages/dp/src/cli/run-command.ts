import type { Command } from 'commander';
import { DEFAULT_SNAP_LEN, LiveDataPlane } from '../engine/live.js';

interface RunFlags {
  socket: string;
  netns?: string;
  ifindex?: string;
  snaplen: string;
  ringBlocks: string;
  blockSize?: string;
  blockTimeout?: string;
  sessions?: string;
  bypassMap?: string;
}

function int(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

function powerOfTwo(name: string, text: string): number {
  const n = int(name, text, 4096, 1 << 30);
  if ((n & (n - 1)) !== 0) throw new Error(`--${name} must be a power of two, got ${n}`);
  return n;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('capture live from the AF_PACKET ring and serve the agent on the control socket')
    .option('--socket <path>', 'control socket path', '/run/mseg/dp.sock')
    .option('--netns <name>', 'network namespace to capture in (holds the tap ports)')
    .option('--ifindex <n>', 'capture only this interface index (default: every interface of the namespace)')
    .option('--snaplen <bytes>', 'bytes kept per frame for DPI', String(DEFAULT_SNAP_LEN))
    .option('--ring-blocks <n>', 'capture ring blocks of --block-size each; the ring buffers traffic while the DP is busy', '128')
    .option('--block-size <bytes>', 'capture ring block size, a power of two (default 1048576)')
    .option('--block-timeout <ms>', 'a partly filled ring block is handed over after this long (default 10)')
    .option('--sessions <n>', 'session table capacity')
    .option('--bypass-map <path>', 'pinned bpf map (made by the agent) through which the kernel counts, rather than copies, sessions DPI is done with')
    .action(async (flags: RunFlags) => {
      const live = new LiveDataPlane({
        socket: flags.socket,
        netns: flags.netns,
        ifindex: flags.ifindex === undefined ? undefined : int('ifindex', flags.ifindex, 1, 0x7fffffff),
        snapLen: int('snaplen', flags.snaplen, 64, 262144),
        // 128 × 1 MiB holds over a second of traffic at 500 kpps: room for a GC pause.
        blockCount: int('ring-blocks', flags.ringBlocks, 2, 65536),
        blockSize: flags.blockSize === undefined ? undefined : powerOfTwo('block-size', flags.blockSize),
        blockTimeoutMs: flags.blockTimeout === undefined ? undefined : int('block-timeout', flags.blockTimeout, 1, 60000),
        sessions: flags.sessions === undefined ? undefined : int('sessions', flags.sessions, 1024, 1 << 24),
        bypassMap: flags.bypassMap,
      });
      await live.start();
      process.stderr.write(`mseg-dp: capturing${flags.netns ? ` in netns ${flags.netns}` : ''}, control socket ${flags.socket}\n`);
      const stop = (): void => {
        live.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
