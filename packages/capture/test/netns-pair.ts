// Two throw-away network namespaces joined by a veth pair, for kernel-level capture tests and the
// rate benchmark. Names share a per-run random prefix so parallel runs never collide, and remove()
// deletes only what this run created.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsPair {
  /** Namespace the capture opens in, and its veth end. */
  readonly capNs: string;
  readonly capIf: string;
  readonly capIfindex: number;
  readonly capMac: string;
  readonly capIp: string;
  /** Namespace traffic is sent from, and its veth end. */
  readonly genNs: string;
  readonly genIf: string;
  readonly genMac: string;
  readonly genIp: string;
  /** Deletes both namespaces (and with them the veth pair); safe to call twice. */
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function linkInfo(ns: string, dev: string): { ifindex: number; address: string } {
  const [link] = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as { ifindex: number; address: string }[];
  return link;
}

/** Runs a command inside a namespace and returns its stdout. */
export function inNetns(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: 30_000,
  });
}

export function createNetnsPair(): NetnsPair {
  const prefix = `mcap${randomBytes(3).toString('hex')}`;
  const capNs = `${prefix}-cap`;
  const genNs = `${prefix}-gen`;
  const capIf = `${prefix}c`;
  const genIf = `${prefix}g`;
  const remove = (): void => {
    for (const ns of [capNs, genNs]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Absent already (never created, or removed by an earlier call): nothing of ours is left.
      }
    }
  };
  try {
    ip('netns', 'add', capNs);
    ip('netns', 'add', genNs);
    ip('link', 'add', capIf, 'netns', capNs, 'type', 'veth', 'peer', 'name', genIf, 'netns', genNs);
    // No IPv6 autoconfiguration chatter (router solicitations, MLD) in the captured traffic.
    for (const [ns, dev] of [[capNs, capIf], [genNs, genIf]]) {
      inNetns(ns, 'sh', ['-c', `echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6`]);
    }
    ip('-n', capNs, 'addr', 'add', '10.213.0.1/30', 'dev', capIf);
    ip('-n', genNs, 'addr', 'add', '10.213.0.2/30', 'dev', genIf);
    ip('-n', capNs, 'link', 'set', capIf, 'up');
    ip('-n', genNs, 'link', 'set', genIf, 'up');
    const cap = linkInfo(capNs, capIf);
    const gen = linkInfo(genNs, genIf);
    // A static neighbour entry: the first datagram goes out at once instead of after ARP.
    ip('-n', genNs, 'neigh', 'replace', '10.213.0.1', 'lladdr', cap.address, 'dev', genIf);
    return {
      capNs, capIf, capIfindex: cap.ifindex, capMac: cap.address, capIp: '10.213.0.1',
      genNs, genIf, genMac: gen.address, genIp: '10.213.0.2', remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
