/** Every request of the groups page. */
import { request } from '../../lib/api';
import type { Criterion, Group, GroupPreview, Mode, Page, WouldBlock } from './types';

export function listGroups(signal?: AbortSignal): Promise<Page<Group>> {
  return request<Page<Group>>('/groups', { query: { limit: 1000 }, signal });
}

export function createGroup(g: { name: string; comment: string; criteria: Criterion[] }): Promise<Group> {
  return request<Group>('/groups', { method: 'POST', body: g });
}

export function updateGroup(name: string, patch: { name?: string; comment?: string; criteria?: Criterion[]; mode?: Mode }): Promise<Group> {
  return request<Group>(`/groups/${encodeURIComponent(name)}`, { method: 'PATCH', body: patch });
}

export function deleteGroup(name: string): Promise<void> {
  return request<void>(`/groups/${encodeURIComponent(name)}`, { method: 'DELETE' });
}

/** Running workloads that criteria select, before they are saved; a 400 names the criterion at fault. */
export function previewGroup(criteria: Criterion[], signal?: AbortSignal): Promise<GroupPreview> {
  return request<GroupPreview>('/groups/preview', { method: 'POST', body: { criteria }, signal });
}

/** Conversations of the last 24 h that Protect on this service group would block. */
export function previewProtect(name: string, signal?: AbortSignal): Promise<Page<WouldBlock>> {
  return request<Page<WouldBlock>>(`/groups/${encodeURIComponent(name)}/preview-protect`, { query: { limit: 200 }, signal });
}
