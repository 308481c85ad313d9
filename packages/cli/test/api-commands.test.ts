/**
 * The API commands against a real controller started in this process (HTTPS with its own
 * self-signed certificate, a temp SQLite store), through `run` exactly as `mseg` parses argv.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type RunningController } from '../../controller/src/server/start.js';
import { run } from '../src/program.js';

const PASSWORD = 'cli-test-admin-password';

let controller: RunningController;
let dir: string;
let cert: string;

async function mseg(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    io: { out: (t) => (out += t), err: (t) => (err += t), interactive: false },
    env: { MSEG_CONFIG_DIR: join(dir, 'config'), ...env },
  });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mseg-cli-'));
  controller = await startController(
    { dataDir: join(dir, 'data'), apiPort: 0, grpcPort: 0, host: '127.0.0.1', noTls: false },
    { adminPassword: PASSWORD, log: () => {} },
  );
  cert = join(dir, 'data', 'tls', 'cert.pem');
  const now = Date.now();
  await controller.ctx.store.db
    .insertInto('workloads')
    .values({
      id: 'a'.repeat(64),
      agent_id: 'agent-1',
      host: 'host-1',
      name: 'shop-web-1',
      image: 'nginx:1',
      labels: JSON.stringify({ 'mseg.service': 'web' }),
      service: 'web',
      interfaces: JSON.stringify([{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: ['172.17.0.2'] }]),
      state: 'running',
      reason: '',
      created_at: now,
      updated_at: now,
    })
    .execute();
});

afterAll(async () => {
  await controller?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('login', () => {
  it('refuses a wrong password with the controller code, and saves nothing', async () => {
    const r = await mseg(['login', controller.apiUrl, '--ca', cert], { MSEG_PASSWORD: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.err).toBe('mseg: MSEG_ERR_AUTH_BAD_CREDENTIALS: wrong username or password\n');
    expect(() => statSync(join(dir, 'config', 'session.json'))).toThrow();
  });

  it('asks for a login before any API command', async () => {
    const r = await mseg(['workloads']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mseg: MSEG_ERR_CLI_NOT_LOGGED_IN: /);
  });

  it('does not trust the self-signed certificate unless told to', async () => {
    const r = await mseg(['login', controller.apiUrl], { MSEG_PASSWORD: PASSWORD });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/MSEG_ERR_CLI_UNREACHABLE: .*(self-signed|certificate)/);
  });

  it('saves the token 0600 in a 0700 directory', async () => {
    const r = await mseg(['login', controller.apiUrl, '--ca', cert], { MSEG_PASSWORD: PASSWORD });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('as admin (admin)');
    const file = join(dir, 'config', 'session.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ url: controller.apiUrl, username: 'admin', ca: cert });
    expect(saved.token).toMatch(/.{20,}/);
  });
});

describe('API commands (logged in)', () => {
  it('workloads: a table and the JSON page', async () => {
    const t = await mseg(['workloads']);
    expect(t.code).toBe(0);
    const lines = t.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+SERVICE\s+HOST\s+STATE\s+MODE\s+IPS\s+IMAGE$/);
    expect(lines[1]).toMatch(/^aaaaaaaaaaaa\s+shop-web-1\s+web\s+host-1\s+running\s+monitor\s+172\.17\.0\.2\s+nginx:1$/);
    const j = await mseg(['workloads', '--json', '--service', 'nope']);
    expect(JSON.parse(j.out)).toMatchObject({ items: [], total: 0 });
  });

  it('policies apply -f: creates groups and rules, is idempotent, and export gives them back', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'groups:',
        '  - { name: frontends, criteria: [{ key: service, op: "=", value: web }] }',
        '  - { name: databases, criteria: [{ key: service, op: "=", value: db }] }',
        'rules:',
        '  - { from: frontends, to: databases, ports: tcp/5432, apps: [PostgreSQL], action: allow, comment: web to db }',
        '',
      ].join('\n'),
    );
    const first = await mseg(['policies', 'apply', '-f', file]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^groups: 2 created, 0 updated; rules: 1 created, 0 updated, 0 deleted; revision \d+\n$/);
    expect(first.err).toMatch(/✓ apply .*: policy revision \d+/);
    const again = await mseg(['policies', 'apply', '-f', file]);
    expect(again.out).toBe('groups: 0 created, 0 updated; rules: 0 created, 0 updated, 0 deleted; revision unchanged\n');

    const list = await mseg(['policies', 'list']);
    expect(list.out).toMatch(/\n\d+\s+frontends\s+databases\s+tcp\/5432\s+PostgreSQL\s+allow\s+yes\s+0\s+-\s+web to db\n$/);
    const exported = await mseg(['policies', 'export', '--format', 'json']);
    const doc = JSON.parse(exported.out);
    expect(doc.rules).toEqual([expect.objectContaining({ from: 'frontends', to: 'databases', ports: 'tcp/5432' })]);

    const groups = await mseg(['groups', '--kind', 'user']);
    expect(groups.out).toMatch(/databases\s+user\s+-\s+0\s+service = db/);
    expect(groups.out).toMatch(/frontends\s+user\s+-\s+1\s+service = web/);
  });

  it('policies apply: the controller refusal is printed with its code and field', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, groups: [], rules: [{ from: 'frontends', to: 'databases', ports: 'tcp/99999', action: 'allow' }] }));
    const r = await mseg(['policies', 'apply', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\nmseg: MSEG_ERR_VALIDATION: .*99999.*\n$/);
  });

  it('policies apply: a missing file is a CLI error', async () => {
    const r = await mseg(['policies', 'apply', '-f', join(dir, 'none.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mseg: MSEG_ERR_CLI_FILE: .*none\.yaml: ENOENT/);
  });

  it('mode: NAME means svc.NAME; modes live on service groups only', async () => {
    const imported = await controller.app.inject({
      method: 'POST',
      url: '/api/v1/policies/import',
      headers: { authorization: `Bearer ${JSON.parse(readFileSync(join(dir, 'config', 'session.json'), 'utf8')).token}` },
      payload: { version: 1, groups: [{ name: 'svc.web', mode: 'monitor' }], rules: [] },
    });
    expect(imported.statusCode).toBe(200);
    const r = await mseg(['mode', 'web', 'protect']);
    expect(r.err).toBe('');
    expect(r.out).toBe('svc.web: protect (1 running workload)\n');
    expect((await mseg(['workloads'])).out).toMatch(/shop-web-1\s+web\s+host-1\s+running\s+protect/);

    const user = await mseg(['mode', 'frontends', 'monitor']);
    expect(user.code).toBe(1);
    expect(user.err).toMatch(/^mseg: MSEG_ERR_\w+: /);
    const missing = await mseg(['mode', 'nothing', 'monitor']);
    expect(missing.err).toMatch(/^mseg: MSEG_ERR_NOT_FOUND: .*svc\.nothing/);
    const bad = await mseg(['mode', 'web', 'block']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('mseg: MSEG_ERR_CLI_USAGE: mode: expected monitor or protect, got "block"\n');
  });

  it('connections and violations: headers on an empty store, and the JSON page', async () => {
    const c = await mseg(['connections']);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^CLIENT\s+SERVER\s+PORT\s+APP\s+VERDICT\s+RULE\s+BY\s+SESSIONS\s+BYTES\s+LAST SEEN\n$/);
    const v = await mseg(['violations', '--json']);
    expect(JSON.parse(v.out)).toMatchObject({ items: [], total: 0 });
    const bad = await mseg(['connections', '--verdict', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^mseg: MSEG_ERR_VALIDATION: .*verdict/);
  });

  it('status without a stack: says so and shows the controller counts', async () => {
    const r = await mseg(['status', '--run-dir', join(dir, 'no-run')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^no stack started from .*no-run \(mseg up\)\nagents: 0 online of 0; workloads: 1 running of 1; /);
  });

  it('usage errors exit 2 with commander\'s message', async () => {
    const r = await mseg(['workloads', '--limit', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('mseg: MSEG_ERR_CLI_USAGE: --limit: expected a positive integer, got "x"\n');
    const unknown = await mseg(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
  });
});
