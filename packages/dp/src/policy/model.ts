/**
 * Policy as the data plane receives it (from the agent over the control socket, or from a file
 * for `replay --policy`). Validated with zod so a bad rule is refused with the field named.
 *
 * A rule matches a session when its client is in `from`, its server is in `to`, the server port
 * and protocol are in `ports` and (once known) its application is in `apps`. Peers are IPs, CIDRs
 * or domain patterns (`example.com`, `*.example.com`) resolved through the FQDN table.
 */
import { z } from 'zod';
import { appId } from '../dpi/apps.js';
import { parseCidr } from '../net/address.js';

const DOMAIN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

export const peerSchema = z.string().refine((s) => s === 'any' || parseCidr(s) !== null || DOMAIN.test(s), {
  message: 'must be "any", an IP address, a CIDR or a domain name (wildcard *.name allowed)',
});

/** `any`, or comma-separated `tcp/80`, `udp/53`, `tcp/8000-8080`, `icmp`, `tcp` (every port). */
export const portsSchema = z.string().superRefine((s, ctx) => {
  const err = parsePortsError(s);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

export const ruleSchema = z.strictObject({
  id: z.number().int().min(1).max(0xffffffff),
  from: z.array(peerSchema).min(1).default(['any']),
  to: z.array(peerSchema).min(1).default(['any']),
  ports: portsSchema.default('any'),
  apps: z
    .array(z.string().refine((a) => a.toLowerCase() === 'any' || appId(a) > 0, { message: 'unknown application' }))
    .min(1)
    .default(['any']),
  action: z.enum(['allow', 'deny']),
});

export const modeSchema = z.enum(['monitor', 'protect']);

export const policySchema = z.strictObject({
  mode: modeSchema.default('monitor'),
  rules: z.array(ruleSchema).max(100_000).default([]),
});

export type RuleSpec = z.infer<typeof ruleSchema>;
export type PolicySpec = z.infer<typeof policySchema>;
export type Mode = z.infer<typeof modeSchema>;

export interface PortRange {
  /** IP protocol, 0 = any. */
  proto: number;
  lo: number;
  hi: number;
}

const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

function parsePortsError(s: string): string | null {
  const r = parsePorts(s);
  return typeof r === 'string' ? r : null;
}

/** Parses a ports expression; returns the ranges, or an error text naming the bad part. */
export function parsePorts(s: string): PortRange[] | string {
  const text = s.trim().toLowerCase();
  if (text === 'any' || text === '') return [{ proto: 0, lo: 0, hi: 65535 }];
  const out: PortRange[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    const m = /^([a-z0-9]+)(?:\/(\d{1,5})(?:-(\d{1,5}))?)?$/.exec(item);
    if (!m) return `"${item}" is not proto/port or proto/lo-hi`;
    const proto = PROTO_NUMBERS[m[1]];
    if (proto === undefined) return `"${m[1]}" is not a protocol (tcp, udp, icmp, icmpv6, sctp)`;
    if (m[2] === undefined) {
      out.push({ proto, lo: 0, hi: 65535 });
      continue;
    }
    if (proto === 1 || proto === 58) return `"${item}": ${m[1]} has no ports`;
    const lo = Number(m[2]);
    const hi = m[3] === undefined ? lo : Number(m[3]);
    if (lo < 1 || lo > 65535) return `"${item}": port ${lo} is outside 1-65535`;
    if (hi < 1 || hi > 65535) return `"${item}": port ${hi} is outside 1-65535`;
    if (hi < lo) return `"${item}": range ends before it starts`;
    out.push({ proto, lo, hi });
  }
  return out;
}

/** Turns a zod error into one line naming each bad field. */
export function describeZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
