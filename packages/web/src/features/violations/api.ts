import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { Violation, ViolationFilters } from './types';

export function listViolations(filters: ViolationFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Violation>> {
  return request<Page<Violation>>('/violations', { query: { ...filters }, signal });
}
