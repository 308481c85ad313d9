import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { server } from '../testing/server';
import { ApiError, configureApi, request } from './api';

describe('request', () => {
  afterEach(() => configureApi({ token: () => null, onUnauthorized: () => {} }));

  it('sends the bearer token and the query without empty values, and returns the JSON', async () => {
    configureApi({ token: () => 'tok-1', onUnauthorized: () => {} });
    let seen: Request | undefined;
    server.use(
      http.get('/api/v1/connections', ({ request: req }) => {
        seen = req;
        return HttpResponse.json({ items: [], total: 0, limit: 10, offset: 0 });
      }),
    );
    const r = await request('/connections', { query: { app: 'http', port: 80, verdict: undefined, from: '' } });
    expect(r).toEqual({ items: [], total: 0, limit: 10, offset: 0 });
    expect(seen?.headers.get('authorization')).toBe('Bearer tok-1');
    expect(new URL(seen!.url).search).toBe('?app=http&port=80');
  });

  it('turns the error body into an ApiError with its code, message and field', async () => {
    server.use(
      http.post('/api/v1/policies', () =>
        HttpResponse.json({ error: { code: 'MSEG_ERR_VALIDATION', message: 'body.ports: "tcp/99999" is not a port', field: 'body.ports' } }, { status: 400 }),
      ),
    );
    const err = await request('/policies', { method: 'POST', body: { ports: 'tcp/99999' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'MSEG_ERR_VALIDATION', message: 'body.ports: "tcp/99999" is not a port', field: 'body.ports' });
    expect((err as ApiError).formField).toBe('ports');
  });

  it('names a non-JSON failure and an unreachable controller', async () => {
    server.use(http.get('/api/v1/stats', () => new HttpResponse('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })));
    await expect(request('/stats')).rejects.toMatchObject({ status: 502, code: 'MSEG_UI_BAD_RESPONSE' });
    server.use(http.get('/api/v1/stats', () => HttpResponse.error()));
    await expect(request('/stats')).rejects.toMatchObject({ status: 0, code: 'MSEG_UI_NETWORK' });
  });

  it('ends the session on a 401 to a request that carried a token, not on a failed login', async () => {
    const onUnauthorized = vi.fn();
    server.use(
      http.get('/api/v1/agents', () => HttpResponse.json({ error: { code: 'MSEG_ERR_AUTH_REQUIRED', message: 'token unknown or expired; log in again' } }, { status: 401 })),
      http.post('/api/v1/auth/login', () => HttpResponse.json({ error: { code: 'MSEG_ERR_AUTH_BAD_CREDENTIALS', message: 'wrong username or password' } }, { status: 401 })),
    );
    configureApi({ token: () => null, onUnauthorized });
    await expect(request('/auth/login', { method: 'POST', body: { username: 'a', password: 'b' } })).rejects.toMatchObject({ code: 'MSEG_ERR_AUTH_BAD_CREDENTIALS' });
    expect(onUnauthorized).not.toHaveBeenCalled();
    configureApi({ token: () => 'expired', onUnauthorized });
    await expect(request('/agents')).rejects.toMatchObject({ status: 401, code: 'MSEG_ERR_AUTH_REQUIRED' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('returns undefined for 204 and text when asked', async () => {
    server.use(
      http.post('/api/v1/auth/logout', () => new HttpResponse(null, { status: 204 })),
      http.get('/api/v1/policies/export', () => new HttpResponse('rules: []\n', { headers: { 'content-type': 'application/yaml' } })),
    );
    expect(await request('/auth/logout', { method: 'POST' })).toBeUndefined();
    expect(await request('/policies/export', { asText: true })).toBe('rules: []\n');
  });
});
