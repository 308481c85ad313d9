// The tap plumbing of DESIGN "Plumbing", built from throw-away network namespaces for live tests:
// a client and a server namespace joined by a veth, the server end mirrored with tc (clsact + u32
// match-all + mirred) onto an nv-ex/nv-in veth pair whose nv-in end sits in a capture namespace
// that plays the part of `mseg`. Every name carries a per-run id, so parallel runs never collide
// and cleanup can prove that nothing of this run is left.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface MirrorTopology {
  /** Per-run id (6 hex digits) that every namespace and interface name contains. */
  readonly id: string;
  readonly cliNs: string;
  readonly srvNs: string;
  readonly capNs: string;
  /** The client's and the server's ends of the veth that joins them. */
  readonly cliIf: string;
  readonly srvIf: string;
  /** The mirror target in the server namespace, and its peer in the capture namespace. */
  readonly exIf: string;
  readonly inIf: string;
  /** ifindex of the nv-in end in the capture namespace: the port the DP attributes frames to. */
  readonly tapIfindex: number;
  readonly cliMac: string;
  readonly srvMac: string;
  readonly cli4: string;
  readonly srv4: string;
  readonly cli6: string;
  readonly srv6: string;
  /** Deletes the three namespaces (and with them every veth); safe to call twice. */
  remove(): void;
  /** Namespaces and host links whose name contains this run's id (empty after remove()). */
  leftovers(): string[];
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

/** Runs a command inside a namespace without blocking the event loop; rejects on failure or timeout. */
export async function execInNetns(ns: string, cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, cmd, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return stdout;
}

function inNetnsSync(ns: string, cmd: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function linkInfo(ns: string, dev: string): { ifindex: number; address: string } {
  const [link] = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as { ifindex: number; address: string }[];
  return link;
}

export function createMirrorTopology(): MirrorTopology {
  const id = randomBytes(3).toString('hex');
  const prefix = `msdp${id}`;
  const cliNs = `${prefix}-cli`;
  const srvNs = `${prefix}-srv`;
  const capNs = `${prefix}-cap`;
  const cliIf = `${prefix}c`;
  const srvIf = `${prefix}s`;
  const exIf = `nv-ex-${id}`;
  const inIf = `nv-in-${id}`;
  const [cli4, srv4] = ['10.231.0.1', '10.231.0.2'];
  const [cli6, srv6] = ['fd00:6d73:6567::1', 'fd00:6d73:6567::2'];

  const namespaces = [cliNs, srvNs, capNs];
  const remove = (): void => {
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Absent already (never created, or removed by an earlier call): nothing of ours is left.
      }
    }
  };
  const leftovers = (): string[] => {
    const netns = ip('netns', 'list').split('\n').filter((l) => l.includes(id));
    const links = ip('-o', 'link', 'show').split('\n').filter((l) => l.includes(id));
    return [...netns.map((l) => `netns ${l}`), ...links.map((l) => `link ${l}`)];
  };

  try {
    for (const ns of namespaces) ip('netns', 'add', ns);
    // Both veths are created straight inside their namespaces: no name of this run ever appears
    // in the host namespace, and deleting the namespaces deletes the links.
    ip('link', 'add', cliIf, 'netns', cliNs, 'type', 'veth', 'peer', 'name', srvIf, 'netns', srvNs);
    ip('link', 'add', exIf, 'netns', srvNs, 'type', 'veth', 'peer', 'name', inIf, 'netns', capNs);
    // The tap pair carries only mirrored frames: no IPv6 autoconfiguration chatter of its own.
    inNetnsSync(srvNs, 'sysctl', ['-qw', `net.ipv6.conf.${exIf}.disable_ipv6=1`]);
    inNetnsSync(capNs, 'sysctl', ['-qw', `net.ipv6.conf.${inIf}.disable_ipv6=1`]);
    ip('-n', cliNs, 'addr', 'add', `${cli4}/24`, 'dev', cliIf);
    ip('-n', srvNs, 'addr', 'add', `${srv4}/24`, 'dev', srvIf);
    // nodad: the addresses are usable at once instead of after duplicate address detection.
    ip('-n', cliNs, 'addr', 'add', `${cli6}/64`, 'dev', cliIf, 'nodad');
    ip('-n', srvNs, 'addr', 'add', `${srv6}/64`, 'dev', srvIf, 'nodad');
    for (const [ns, dev] of [[cliNs, 'lo'], [srvNs, 'lo'], [cliNs, cliIf], [srvNs, srvIf], [srvNs, exIf], [capNs, inIf]]) {
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    // The agent's mirror: both directions of the server's interface, copied out of nv-ex.
    inNetnsSync(srvNs, 'tc', ['qdisc', 'add', 'dev', srvIf, 'clsact']);
    for (const hook of ['ingress', 'egress']) {
      inNetnsSync(srvNs, 'tc', [
        'filter', 'add', 'dev', srvIf, hook, 'protocol', 'all', 'u32', 'match', 'u32', '0', '0',
        'action', 'mirred', 'egress', 'mirror', 'dev', exIf,
      ]);
    }
    return {
      id, cliNs, srvNs, capNs, cliIf, srvIf, exIf, inIf,
      tapIfindex: linkInfo(capNs, inIf).ifindex,
      cliMac: linkInfo(cliNs, cliIf).address,
      srvMac: linkInfo(srvNs, srvIf).address,
      cli4, srv4, cli6, srv6, remove, leftovers,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
