/**
 * Offline analysis of a capture file through the same pipeline as live traffic.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DpError } from '../errors.js';
import { readCaptureFile } from '../source/capture-file.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compiled.js';
import { describeZodError, policySchema } from '../policy/model.js';
import type { ThreatRecord } from '../threat/threat-log.js';
import type { ConnectionRecord } from '../report/connection-aggregator.js';
import { DataPlane, type DataPlaneCounters } from './data-plane.js';
import type { FlowRecord } from './flow-record.js';

export interface ReplayOptions {
  policy?: CompiledPolicy;
  sessions?: number;
  onFlow?: (f: FlowRecord) => void;
  onThreat?: (t: ThreatRecord) => void;
  onConnections?: (batch: ConnectionRecord[]) => void;
}

export interface ReplaySummary {
  packets: number;
  flows: number;
  malformed: number;
  seconds: number;
  counters: DataPlaneCounters;
  badRecords: number;
  truncated: boolean;
}

export function replayCapture(path: string, opts: ReplayOptions = {}): ReplaySummary {
  const dp = new DataPlane({
    sessions: opts.sessions,
    keepMeta: opts.onFlow !== undefined,
    onFlowEnd: opts.onFlow,
    onThreat: opts.onThreat,
    onConnections: opts.onConnections,
  });
  if (opts.policy) dp.defaultPolicy = opts.policy;
  const started = process.hrtime.bigint();
  // Frames of a file belong to no registered port: ifindex 0 (pcapng interface ids are not ifindexes).
  const stats = readCaptureFile(path, (lt, buf, off, cap, wire, ts) => dp.handleFrame(lt, buf, off, cap, wire, ts, 0));
  dp.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const c = dp.counters();
  return {
    packets: c.packets,
    flows: c.sessionsCreated,
    malformed: c.malformed + stats.badRecords,
    seconds,
    counters: c,
    badRecords: stats.badRecords,
    truncated: stats.truncated,
  };
}

export class PolicyFileError extends DpError {
  constructor(message: string) {
    super('MSEG_ERR_DP_POLICY_FILE', message);
  }
}

/** Reads a YAML or JSON policy file; errors name the file and the offending field. */
export function loadPolicyFile(path: string): CompiledPolicy {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new PolicyFileError(`${path}: ${(e as Error).message}`);
  }
  const r = policySchema.safeParse(doc);
  if (!r.success) throw new PolicyFileError(`${path}: ${describeZodError(r.error)}`);
  return compilePolicy(r.data);
}
