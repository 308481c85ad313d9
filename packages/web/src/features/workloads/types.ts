/** GET /workloads items (packages/controller/src/api/workloads.ts). */
export type Mode = 'monitor' | 'protect';
export type WorkloadState = 'running' | 'stopped' | 'unmonitored';

export interface Workload {
  id: string;
  agentId: string;
  host: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  service: string;
  interfaces: { name: string; mac: string; ips: string[] }[];
  state: WorkloadState;
  /** why a running workload is not monitored */
  reason: string;
  mode: Mode;
  createdAt: number;
  updatedAt: number;
}

export interface WorkloadFilters {
  host?: string;
  group?: string;
  service?: string;
  image?: string;
  name?: string;
  mode?: Mode;
  state?: WorkloadState;
}
