import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MsegError } from '../errors.js';
import type { Context } from './context.js';
import { errorHandler } from './error-handler.js';

describe('error handler', () => {
  it.each([
    ['a coded error with its field', () => new MsegError('MSEG_ERR_CONFLICT', 'group web already exists', 'body.name'), 409, { code: 'MSEG_ERR_CONFLICT', message: 'group web already exists', field: 'body.name' }, 0],
    ['an unexpected error, without its internals', () => new Error('secret path /etc/x'), 500, { code: 'MSEG_ERR_INTERNAL', message: 'internal error' }, 1],
    ['a coded 5xx, logged with its cause', () => new MsegError('MSEG_ERR_STORE_UNAVAILABLE', undefined, undefined, { cause: new Error('ECONNREFUSED') }), 503, { code: 'MSEG_ERR_STORE_UNAVAILABLE', message: 'the store does not answer' }, 1],
  ])('answers %s', async (_name, make, status, error, logged) => {
    const logs: string[] = [];
    const app = Fastify();
    app.setErrorHandler(errorHandler({ log: (m: string) => logs.push(m) } as Context));
    app.get('/x', async () => {
      throw make();
    });
    const r = await app.inject({ method: 'GET', url: '/x?q=1' });
    expect(r.statusCode).toBe(status);
    expect(r.json()).toEqual({ error });
    expect(logs).toHaveLength(logged);
    if (logged) expect(logs[0]).toMatch(/^error: GET \/x: /);
    await app.close();
  });
});
