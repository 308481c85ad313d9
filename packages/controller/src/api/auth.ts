/** Login, logout and "who am I". Failed logins are limited per username and per client address. */
import { Type } from '@sinclair/typebox';
import { FailureLimiter } from '../auth/rate-limit.js';
import { decoyHash, verifyPassword } from '../auth/password.js';
import { createSession, deleteSession } from '../auth/sessions.js';
import { MsegError } from '../errors.js';
import { getSystemConfig } from '../server/config.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, ErrorSchema } from './schemas/common.js';

export const LOGIN_FAILURES_PER_WINDOW = 5;
export const LOGIN_WINDOW_MS = 60_000;

const Role = Type.Union([Type.Literal('admin'), Type.Literal('reader')]);

const auth: ApiPlugin = async (app, { ctx }) => {
  const limiter = new FailureLimiter(LOGIN_FAILURES_PER_WINDOW, LOGIN_WINDOW_MS);

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username and password for a bearer token',
        security: [],
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.Integer(), role: Role, username: Type.String() }),
          400: ErrorSchema,
          401: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const keys = [`user:${username}`, `ip:${req.ip}`];
      const now = ctx.now();
      const wait = Math.max(...keys.map((k) => limiter.retryAfter(k, now)));
      if (wait > 0) {
        void reply.header('retry-after', Math.ceil(wait / 1000));
        throw new MsegError('MSEG_ERR_AUTH_RATE_LIMITED', `too many failed logins; retry in ${Math.ceil(wait / 1000)} s`);
      }
      const user = await ctx.store.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      const ok = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
      if (!user || !ok) {
        for (const k of keys) limiter.fail(k, now);
        throw new MsegError('MSEG_ERR_AUTH_BAD_CREDENTIALS');
      }
      limiter.clear(keys[0]);
      const { sessionHours } = await getSystemConfig(ctx);
      const session = await createSession(ctx, Number(user.id), sessionHours * 3_600_000);
      return { ...session, role: user.role, username: user.username };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { anyRole: true },
      schema: { tags: ['auth'], summary: 'End the session of the token used', response: { 204: Type.Null(), ...ErrorResponses } },
    },
    async (req, reply) => {
      await deleteSession(ctx, req.token!);
      return reply.status(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The user behind the token',
        response: { 200: Type.Object({ username: Type.String(), role: Role }), ...ErrorResponses },
      },
    },
    async (req) => ({ username: req.user!.username, role: req.user!.role }),
  );
};

export default auth;
