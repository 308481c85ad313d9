import type { Command } from 'commander';
import { LiveDataPlane } from '../engine/live.js';

interface RunFlags {
  socket: string;
  netns?: string;
  ifindex?: string;
  snaplen: string;
  sessions?: string;
}

function int(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('capture live from the AF_PACKET ring and serve the agent on the control socket')
    .option('--socket <path>', 'control socket path', '/run/mseg/dp.sock')
    .option('--netns <name>', 'network namespace to capture in (holds nv-br and the tap ports)')
    .option('--ifindex <n>', 'capture only this interface index (default: every interface of the namespace)')
    .option('--snaplen <bytes>', 'bytes kept per frame for DPI', '4096')
    .option('--sessions <n>', 'session table capacity')
    .action(async (flags: RunFlags) => {
      const live = new LiveDataPlane({
        socket: flags.socket,
        netns: flags.netns,
        ifindex: flags.ifindex === undefined ? undefined : int('ifindex', flags.ifindex, 1, 0x7fffffff),
        snapLen: int('snaplen', flags.snaplen, 64, 262144),
        sessions: flags.sessions === undefined ? undefined : int('sessions', flags.sessions, 1024, 1 << 24),
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
