import { request } from '../../lib/api';
import type { Page } from '../../lib/page';
import type { ConnectionFilters, Conversation } from './types';

export function listConnections(filters: ConnectionFilters & { limit: number; offset: number }, signal?: AbortSignal): Promise<Page<Conversation>> {
  return request<Page<Conversation>>('/connections', { query: { ...filters }, signal });
}
