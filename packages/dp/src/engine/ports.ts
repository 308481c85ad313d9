/**
 * Tap ports the agent registered: which workload a mirrored frame belongs to (the port it came
 * from) and which of its MACs and IPs are the workload's own, to tell egress from ingress.
 */
import { addressKey, parseAddress } from '../net/address.js';

export interface PortSpec {
  ifindex: number;
  workloadId: string;
  macs: string[];
  ips: string[];
}

export interface Port {
  ifindex: number;
  workloadId: string;
  /** MACs as hi(16 bits) * 2^32 + lo(32 bits). */
  macs: Set<number>;
  ips: Set<string>;
}

export function macToNumber(mac: string): number {
  const hex = mac.replace(/[:-]/g, '');
  if (!/^[0-9a-f]{12}$/i.test(hex)) return -1;
  return parseInt(hex.slice(0, 4), 16) * 4294967296 + parseInt(hex.slice(4), 16);
}

export class PortTable {
  private readonly ports = new Map<number, Port>();

  set(spec: PortSpec): Port {
    const port: Port = {
      ifindex: spec.ifindex,
      workloadId: spec.workloadId,
      macs: new Set(spec.macs.map(macToNumber).filter((m) => m >= 0)),
      ips: new Set(spec.ips.map((ip) => parseAddress(ip)).filter((w): w is Uint32Array => w !== null).map(addressKey)),
    };
    this.ports.set(spec.ifindex, port);
    return port;
  }

  delete(ifindex: number): boolean {
    return this.ports.delete(ifindex);
  }

  get(ifindex: number): Port | undefined {
    return this.ports.get(ifindex);
  }

  get size(): number {
    return this.ports.size;
  }

  all(): IterableIterator<Port> {
    return this.ports.values();
  }
}
