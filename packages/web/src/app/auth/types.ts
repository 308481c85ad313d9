export type Role = 'admin' | 'reader';

export interface Session {
  token: string;
  /** ms since the epoch */
  expiresAt: number;
  role: Role;
  username: string;
}
