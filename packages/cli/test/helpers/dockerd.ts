/**
 * A Docker engine of the test's own, as a second host on this machine would have: its own socket,
 * data root, exec root (and so its own containerd), pid file and bridge, and an address pool
 * (10.N.0.0/16, N free on this host) for its networks. A stack watching it sees only the
 * test's containers, so it never plumbs another test's.
 *
 * It runs with --iptables=false: a second dockerd managing the host's iptables would rewrite the
 * DOCKER chains the first one owns. The host's FORWARD policy is DROP (the first dockerd sets it)
 * and bridged traffic passes iptables (br_netfilter), so two ACCEPT rules for the pool are added
 * and removed again by stop(); routing between two such engines' pools works the same way.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const START_TIMEOUT_MS = 60_000;

export interface Dockerd {
  socket: string;
  bridge: string;
  /** 10.N.0.0/16: the bridge has 10.N.0.1/24, networks made on this engine get /24s after it. */
  pool: string;
  docker(...args: string[]): Promise<string>;
  /** Removes the containers, stops dockerd, deletes its files, bridge and FORWARD rules; never throws. */
  stop(): Promise<void>;
}

async function sh(argv: string[], timeout = 30_000): Promise<string> {
  return (await run(argv[0], argv.slice(1), { timeout, maxBuffer: 16 << 20 })).stdout;
}

/** A second octet N whose 10.N.0.0/16 no route of this host touches. */
async function freePool(): Promise<number> {
  const routes = await sh(['ip', '-4', 'route', 'show']);
  for (let tries = 0; tries < 100; tries++) {
    const n = 160 + (randomBytes(1)[0] % 90);
    if (!routes.includes(`10.${n}.`)) return n;
  }
  throw new Error('no free 10.N.0.0/16 for a private dockerd');
}

export async function startDockerd(dir: string): Promise<Dockerd> {
  mkdirSync(dir, { recursive: true });
  const bridge = `msegd${randomBytes(3).toString('hex')}`;
  const n = await freePool();
  const pool = `10.${n}.0.0/16`;
  const socket = join(dir, 'docker.sock');
  const pidFile = join(dir, 'docker.pid');
  const forward = [
    ['-s', pool, '-j', 'ACCEPT'],
    ['-d', pool, '-j', 'ACCEPT'],
  ];
  const docker = async (...args: string[]) => (await sh(['docker', '-H', `unix://${socket}`, ...args], 120_000)).trim();
  let pid: number | null = null;

  const stop = async () => {
    const ids = (await docker('ps', '-aq').catch(() => '')).split('\n').filter(Boolean);
    if (ids.length) await docker('rm', '-f', ...ids).catch(() => '');
    // Each network has a br-* bridge of the engine's, removed only by the engine.
    await docker('network', 'prune', '-f').catch(() => '');
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Exited already.
      }
      // dockerd unmounts its layers and stops its containerd on the way out; its files can go after.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const rule of forward) await sh(['iptables', '-D', 'FORWARD', ...rule]).catch(() => '');
    await sh(['ip', 'link', 'del', bridge]).catch(() => '');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    await sh(['ip', 'addr', 'add', `10.${n}.0.1/24`, 'dev', bridge]);
    await sh(['ip', 'link', 'set', bridge, 'up']);
    for (const rule of forward) await sh(['iptables', '-I', 'FORWARD', ...rule]);
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    const child = spawn(
      'dockerd',
      [
        '-H',
        `unix://${socket}`,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        pidFile,
        '--bridge',
        bridge,
        '--iptables=false',
        '--ip-masq=false',
        '--default-address-pool',
        `base=${pool},size=24`,
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    child.unref();
    pid = child.pid ?? null;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dockerd exited at start:\n${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
      if (await docker('info', '--format', '{{.ServerVersion}}').then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`dockerd on ${socket} did not answer within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { socket, bridge, pool, docker, stop };
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0;
  } catch {
    return false;
  }
}
