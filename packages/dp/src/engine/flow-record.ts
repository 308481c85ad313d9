import type { FlowMeta } from '../dpi/meta.js';
import type { ActionName } from '../policy/compiled.js';
import type { DirectionName } from '../report/connection-aggregator.js';

/** One session as `replay` prints it when the session ends. */
export interface FlowRecord {
  l4: string;
  client: string;
  server: string;
  app: string;
  workloadId: string;
  direction: DirectionName;
  packetsToServer: number;
  packetsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  firstSeen: number;
  lastSeen: number;
  state: string;
  end: 'idle' | 'evicted' | 'flush';
  meta?: FlowMeta;
  verdict?: ActionName;
  ruleId?: number;
  threatSeverity: number;
}
