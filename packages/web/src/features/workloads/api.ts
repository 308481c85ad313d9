import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { Workload, WorkloadFilters } from './types';

export function listWorkloads(filters: WorkloadFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Workload>> {
  return request<Page<Workload>>('/workloads', { query: { ...filters }, signal });
}

export function getWorkload(id: string, signal?: AbortSignal): Promise<Workload> {
  return request<Workload>(`/workloads/${encodeURIComponent(id)}`, { signal });
}
