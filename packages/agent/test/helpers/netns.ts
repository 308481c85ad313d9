// Network namespaces standing in for containers: a "lan" namespace with a bridge plays the
// Docker network, and each "container" namespace has eth0 on it. Every name carries a per-run id
// so parallel runs never collide and cleanup can prove nothing of this run is left.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { BPFFS, pinDir } from '../../src/plumbing/names.js';

const execFileAsync = promisify(execFile);

export function sh(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
}

export async function shAsync(argv: string[], timeoutMs = 15_000): Promise<string> {
  const { stdout } = await execFileAsync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return stdout;
}

export function inNs(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

export interface FakeContainer {
  ns: string;
  path: string;
  id: string;
  ip: string;
  mac: string;
  ifindex: number;
}

export class TestNet {
  readonly id = randomBytes(3).toString('hex');
  readonly prefix = `msat${this.id}`;
  /** The capture namespace for this run (plays `mseg`). */
  readonly capture = `${this.prefix}-cap`;
  private readonly lan = `${this.prefix}-lan`;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private subnet = 1 + (randomBytes(1)[0] % 200);

  constructor() {
    this.add(this.lan);
    sh(['ip', '-n', this.lan, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.lan, 'link', 'set', 'br0', 'up']);
    this.namespaces.push(this.capture);
  }

  /** A "container" namespace on the lan with eth0 at 10.233.<run>.<n>/24. */
  container(n: number): FakeContainer {
    const ns = `${this.prefix}-c${n}`;
    this.add(ns);
    sh(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `v${n}`, 'netns', this.lan]);
    sh(['ip', '-n', this.lan, 'link', 'set', `v${n}`, 'master', 'br0', 'up']);
    const ip = `10.233.${this.subnet}.${n}`;
    sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const [l] = JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show', 'dev', 'eth0'])) as { ifindex: number; address: string }[];
    return { ns, path: `/run/netns/${ns}`, id: `${this.id}${n}`.padEnd(16, '0'), ip, mac: l.address, ifindex: l.ifindex };
  }

  /** A long-running process the cleanup kills (servers, captures). */
  spawn(argv: string[]): ChildProcess {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(c);
    return c;
  }

  private add(ns: string): void {
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  /** Kills our children and deletes every namespace of the run and the capture namespace's pins; safe to call twice. */
  remove(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of this.namespaces) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // Never made, or gone already: nothing of ours is left there.
      }
    }
    removePins(this.capture);
  }

  /** Namespaces, host links and pinned bpf objects that carry this run's id. */
  leftovers(): string[] {
    const netns = sh(['ip', 'netns', 'list']).split('\n').filter((l) => l.includes(this.id));
    const links = sh(['ip', '-o', 'link', 'show']).split('\n').filter((l) => l.includes(this.id) || / nv-/.test(l));
    return [...netns, ...links, ...pinsOf(this.id)];
  }
}

/** Removes the pinned objects of a capture namespace (the bypass map), as `mseg down` does. */
export function removePins(captureNetns: string): void {
  rmSync(pinDir(captureNetns), { recursive: true, force: true });
}

/** Pin directories whose name carries `id`. */
export function pinsOf(id: string): string[] {
  return existsSync(BPFFS) ? readdirSync(BPFFS).filter((n) => n.includes(id)).map((n) => `${BPFFS}/${n}`) : [];
}

/** Waits for a predicate, polling; bounded. */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
