/**
 * renderApp(): the whole UI at `path` inside a MemoryRouter, signed in as `role` (or signed out),
 * with the live stream on a FakeEventSource.
 */
import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { App } from '../app/App';
import { SESSION_STORAGE_KEY } from '../app/auth/AuthProvider';
import type { Role } from '../app/auth/types';
import { FakeEventSource } from './fakeEventSource';

export const TOKEN = 'test-token-abc';

export function signIn(role: Role, username = role === 'admin' ? 'admin' : 'reader'): void {
  sessionStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify({ token: TOKEN, expiresAt: Date.now() + 3_600_000, role, username }));
}

export function renderApp(path: string, opts: { role?: Role } = {}) {
  if (opts.role) signIn(opts.role);
  FakeEventSource.instances = [];
  return render(
    <MemoryRouter initialEntries={[path]}>
      <App eventSource={FakeEventSource.factory} />
    </MemoryRouter>,
  );
}
