/**
 * The signed-in session. The token lives in sessionStorage: it survives a reload but not the
 * closing of the tab, and other tabs do not share it. Any 401 on a request that carried the token
 * (expired, logged out elsewhere, controller restarted with a new store) drops the session, which
 * brings the login page back in place of the current one.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { configureApi } from '../../lib/api';
import * as authApi from './api';
import type { Session } from './types';

export const SESSION_STORAGE_KEY = 'mseg.session';

interface AuthValue {
  session: Session | null;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

function isSession(v: unknown): v is Session {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.token === 'string' && typeof s.expiresAt === 'number' && (s.role === 'admin' || s.role === 'reader') && typeof s.username === 'string';
}

function loadSession(): Session | null {
  const raw = sessionStorage.getItem(SESSION_STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isSession(parsed) && parsed.expiresAt > Date.now()) return parsed;
  } catch {
    // A corrupt entry is treated like none.
  }
  sessionStorage.removeItem(SESSION_STORAGE_KEY);
  return null;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(loadSession);
  // configureApi reads the token through this ref, so requests made during the render that
  // follows a login already carry it.
  const current = useRef(session);
  current.current = session;

  const drop = useCallback(() => {
    sessionStorage.removeItem(SESSION_STORAGE_KEY);
    current.current = null;
    setSession(null);
  }, []);

  // During render, not in an effect: children's effects run before their parent's, and their
  // first requests must already carry the token.
  configureApi({ token: () => current.current?.token ?? null, onUnauthorized: drop });

  const login = useCallback(async (username: string, password: string) => {
    const next = await authApi.login(username, password);
    sessionStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(next));
    current.current = next;
    setSession(next);
  }, []);

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      // Signed out locally even when the controller is unreachable; the token then just expires.
      drop();
    }
  }, [drop]);

  const value = useMemo(() => ({ session, login, logout }), [session, login, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** Whether edit controls are shown: readers get a read-only UI (the API refuses their writes too). */
export function useCanEdit(): boolean {
  return useAuth().session?.role === 'admin';
}
