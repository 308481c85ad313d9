import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { Threat, ThreatFilters } from './types';

export function listThreats(filters: ThreatFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Threat>> {
  return request<Page<Threat>>('/threats', { query: { ...filters }, signal });
}
