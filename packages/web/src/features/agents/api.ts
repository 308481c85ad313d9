import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { Agent, AgentState } from './types';

export function listAgents(query: { limit: number; offset: number; host?: string; state?: AgentState }, signal?: AbortSignal): Promise<Page<Agent>> {
  return request<Page<Agent>>('/agents', { query, signal });
}
