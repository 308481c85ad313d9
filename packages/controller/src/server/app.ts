/**
 * The REST application: Fastify with TypeBox schemas, one error shape, bearer-token auth on
 * everything under /api/v1 but login and health, CORS closed, the OpenAPI document at /api/docs,
 * the route plugins listed in api/index.ts mounted under /api/v1, and the built web UI at /.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiPlugins } from '../api/index.js';
import { API_PREFIX, authHook } from '../auth/hook.js';
import { MsegError } from '../errors.js';
import type { Context } from './context.js';
import { errorHandler } from './error-handler.js';
import { validatorCompiler } from './validation.js';
import { WEB_DIST, webUi } from './web.js';

/** Large enough for a policy import of thousands of rules; anything bigger is refused with 413. */
export const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  /** Serve HTTPS with this key pair; plain HTTP when absent. */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** The built web UI served at `/`; packages/web/dist by default. */
  webRoot?: string;
}

export async function buildApp(ctx: Context, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    // Login rate limits are keyed by the client address: never take it from X-Forwarded-For.
    trustProxy: false,
    ...(opts.https ? { https: opts.https } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler(ctx));
  app.setNotFoundHandler((req) => {
    throw new MsegError('MSEG_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  app.decorateRequest('user', null);
  app.decorateRequest('token', null);
  app.addHook('onRequest', authHook(ctx));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (req.url.startsWith(`${API_PREFIX}/`)) reply.header('cache-control', 'no-store');
  });

  // CORS stays closed: no Access-Control-Allow-* header is ever sent, and preflights are refused
  // outright, so a browser page from another origin can neither read answers nor send JSON writes.
  app.options('*', { config: { public: true }, schema: { hide: true } }, async () => {
    throw new MsegError('MSEG_ERR_CORS_REFUSED');
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'mseg controller', description: 'REST API of the mseg controller', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  for (const plugin of apiPlugins) await app.register(plugin, { prefix: API_PREFIX, ctx });
  await app.register(webUi, { root: opts.webRoot ?? WEB_DIST });

  await app.ready();
  return app;
}
