import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { Agent, AgentFilters } from './types';

export function listAgents(query: AgentFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Agent>> {
  return request<Page<Agent>>('/agents', { query, signal });
}
