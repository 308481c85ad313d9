/** Every request of the groups page. */
import { request } from '../../lib/api';
import type { Criterion, Group, Mode, Page, WouldBlock } from './types';

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

export function groupMembers(name: string, signal?: AbortSignal): Promise<Page<string>> {
  return request<Page<string>>(`/groups/${encodeURIComponent(name)}/members`, { query: { limit: 200 }, signal });
}

/** Conversations of the last 24 h that Protect on this service group would block. */
export function previewProtect(name: string, signal?: AbortSignal): Promise<Page<WouldBlock>> {
  return request<Page<WouldBlock>>(`/groups/${encodeURIComponent(name)}/preview-protect`, { query: { limit: 200 }, signal });
}
