/**
 * Controller users. Two roles: admin (may change anything) and reader (may only look). The first
 * admin is created at start when the store has no user at all.
 */
import { randomBytes } from 'node:crypto';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import { hashPassword } from './password.js';

export type Role = 'admin' | 'reader';

export interface Principal {
  id: number;
  username: string;
  role: Role;
}

export const FIRST_ADMIN = 'admin';

export async function createUser(ctx: Context, username: string, password: string, role: Role): Promise<Principal> {
  const existing = await ctx.store.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  if (existing) throw new MsegError('MSEG_ERR_CONFLICT', `user ${username} already exists`, 'body.username');
  const row = await ctx.store.db
    .insertInto('users')
    .values({ username, password_hash: await hashPassword(password), role, created_at: ctx.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), username, role };
}

/**
 * Creates the first admin if no user exists. Returns the password when one was generated (the
 * caller shows it once); null when users exist or the password was given.
 */
export async function ensureFirstAdmin(ctx: Context, password: string | undefined): Promise<{ username: string; generated: string | null } | null> {
  const any = await ctx.store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const generated = password ? null : randomBytes(18).toString('base64url');
  await createUser(ctx, FIRST_ADMIN, password ?? generated!, 'admin');
  return { username: FIRST_ADMIN, generated };
}
