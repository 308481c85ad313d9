import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testController, type TestController } from './controller.js';

describe('testController', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await testController();
  });
  afterAll(() => t.close());

  it('logs in an admin and a reader with real tokens', async () => {
    expect((await t.admin('GET', '/api/v1/auth/me')).json).toEqual({ username: 'admin', role: 'admin' });
    expect((await t.reader('GET', '/api/v1/auth/me')).json).toEqual({ username: 'reader', role: 'reader' });
    expect((await t.anon('GET', '/api/v1/auth/me')).status).toBe(401);
  });

  it('gives each controller its own store', async () => {
    const other = await testController();
    try {
      await other.admin('PATCH', '/api/v1/system/config', { defaultMode: 'protect' });
      expect((await other.admin('GET', '/api/v1/system/config')).json.defaultMode).toBe('protect');
      expect((await t.admin('GET', '/api/v1/system/config')).json.defaultMode).toBe('monitor');
    } finally {
      await other.close();
    }
  });
});
