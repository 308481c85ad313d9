/**
 * The join token agents present to register. Made once at first start and kept in the store
 * (config key `join_token`) so every controller replica and restart accepts the same one;
 * MSEG_JOIN_TOKEN, when set, wins (deployments that hand the token to agents out of band).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Context } from '../server/context.js';

export const JOIN_TOKEN_KEY = 'join_token';

export async function ensureJoinToken(ctx: Context, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env.MSEG_JOIN_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const fresh = JSON.stringify(randomBytes(24).toString('base64url'));
  // Insert-if-absent, then read: two replicas starting at once end up with the same token.
  await ctx.store.db
    .insertInto('config')
    .values({ key: JOIN_TOKEN_KEY, value: fresh })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await ctx.store.db.selectFrom('config').select('value').where('key', '=', JOIN_TOKEN_KEY).executeTakeFirstOrThrow();
  return JSON.parse(row.value) as string;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function joinTokenMatches(expected: string, given: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(expected), h(given));
}
