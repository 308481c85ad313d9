/**
 * GET /workloads items: the controller's own schema (packages/controller/src/api/workloads.ts,
 * types only), so a field changed there fails the web's typecheck instead of drifting.
 */
import type { Workload } from '@mseg/controller/dist/api/workloads.js';

export type { Workload };
export type Mode = Workload['mode'];
export type WorkloadState = Workload['state'];

export interface WorkloadFilters {
  host?: string;
  group?: string;
  service?: string;
  image?: string;
  name?: string;
  mode?: Mode;
  state?: WorkloadState;
}
