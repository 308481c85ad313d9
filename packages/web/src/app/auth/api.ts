import { request } from '../../lib/api';
import type { Session } from './types';

export function login(username: string, password: string): Promise<Session> {
  return request<Session>('/auth/login', { method: 'POST', body: { username, password } });
}

export function logout(): Promise<void> {
  return request<void>('/auth/logout', { method: 'POST' });
}
