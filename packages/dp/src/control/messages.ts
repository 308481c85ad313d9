/**
 * The agent↔DP protocol on the control socket: JSON messages in length-prefixed frames, every
 * message from the agent checked against these schemas before it touches data-plane state.
 */
import { z } from 'zod';
import { modeSchema, ruleSchema } from '../policy/model.js';

const mac = z.string().regex(/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i, 'must be a MAC like 4e:65:75:56:00:01');
const ip = z.union([z.ipv4(), z.ipv6()]);

export const agentMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('keepalive'), seq: z.number().int().nonnegative() }),
  z.strictObject({
    type: z.literal('port_add'),
    ifindex: z.number().int().positive(),
    workloadId: z.string().min(1).max(128),
    macs: z.array(mac).max(64),
    ips: z.array(ip).max(256),
  }),
  z.strictObject({ type: z.literal('port_remove'), ifindex: z.number().int().positive() }),
  z.strictObject({
    type: z.literal('policy_set'),
    workloadId: z.string().min(1).max(128),
    version: z.number().int().nonnegative().optional(),
    mode: modeSchema,
    rules: z.array(ruleSchema).max(100_000),
  }),
  z.strictObject({ type: z.literal('policy_remove'), workloadId: z.string().min(1).max(128) }),
  z.strictObject({
    type: z.literal('fqdn_set'),
    entries: z.array(z.strictObject({ name: z.string().min(1).max(253), ips: z.array(ip).max(256) })).max(100_000),
  }),
  z.strictObject({
    type: z.literal('config'),
    reportInterval: z.number().min(1).max(60).optional(),
    statsInterval: z.number().min(1).max(3600).optional(),
  }),
  // Asks for a `stats` reply now, besides the periodic push (benchmarks, diagnostics).
  z.strictObject({ type: z.literal('stats') }),
]);

export type AgentMessage = z.infer<typeof agentMessageSchema>;

/** An A/AAAA answer the DP saw in a DNS response; `ttl` in seconds as the server gave it. */
export interface DnsAnswerRecord {
  name: string;
  addr: string;
  ttl: number;
}

/** Messages the DP sends; typed for the agent side, produced only by this package. */
export type DpMessage =
  | { type: 'keepalive'; seq: number; uptime: number }
  | { type: 'connections'; items: import('../report/connection-aggregator.js').ConnectionRecord[] }
  | { type: 'dns'; items: DnsAnswerRecord[] }
  | { type: 'threats'; items: import('../threat/threat-log.js').ThreatRecord[] }
  | { type: 'app_update'; workloadId: string; port: number; proto: number; app: string }
  | { type: 'cut'; workloadId: string; client: string; server: string; clientPort: number; serverPort: number; proto: number; app: string; ruleId: number }
  | { type: 'stats'; counters: import('../engine/data-plane.js').DataPlaneCounters; capture?: Record<string, number> }
  | { type: 'ack'; of: string }
  | { type: 'error'; reason: string };
