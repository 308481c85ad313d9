/**
 * Bearer tokens: 32 random bytes given to the client once; the store keeps only their SHA-256, so
 * a leaked database does not hand out live sessions. Tokens expire after the configured lifetime.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from '../server/context.js';
import type { Principal, Role } from './users.js';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(ctx: Context, userId: number, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.now();
  const expiresAt = now + ttlMs;
  // Expired sessions of anyone are dropped here, so the table stays as small as the live set.
  await ctx.store.db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
  await ctx.store.db.insertInto('sessions').values({ token_hash: tokenHash(token), user_id: userId, created_at: now, expires_at: expiresAt }).execute();
  return { token, expiresAt };
}

/** The user behind a live token, or null for unknown or expired tokens. */
export async function resolveToken(ctx: Context, token: string): Promise<(Principal & { expiresAt: number }) | null> {
  const row = await ctx.store.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id', 'users.username', 'users.role', 'sessions.expires_at'])
    .where('sessions.token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row || Number(row.expires_at) <= ctx.now()) return null;
  return { id: Number(row.id), username: row.username, role: row.role as Role, expiresAt: Number(row.expires_at) };
}

export async function deleteSession(ctx: Context, token: string): Promise<void> {
  await ctx.store.db.deleteFrom('sessions').where('token_hash', '=', tokenHash(token)).execute();
}
