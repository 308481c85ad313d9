/**
 * The web UI end to end in Debian's chromium against a real controller serving it: the built bin
 * on free ports, seeded only through its APIs (REST for groups and rules, gRPC reports as an agent sends
 * them). Each step checks what the UI did against the controller's REST answers, and a screenshot
 * is taken of every page: into docs/screenshots/ for the README when MSEG_SCREENSHOTS=1, else into a
 * temporary directory, so that a test run never changes tracked files.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from './support/agent';
import { launchBrowser, type TestBrowser } from './support/browser';
import { ADMIN_PASSWORD, JOIN_TOKEN, READER_PASSWORD, Rest, startController, type RunningController } from './support/controller';

const SHOTS =
  process.env.MSEG_SCREENSHOTS === '1'
    ? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'screenshots')
    : mkdtempSync(join(tmpdir(), 'mseg-web-shots-'));

let controller: RunningController | undefined;
let browser: TestBrowser | undefined;
let admin: Rest;
let agent: TestAgent | undefined;
let page: Page;
let webToDbRule: number;

const W = {
  web1: { id: 'web-1', service: 'shop-web', ip: '10.20.0.2' },
  web2: { id: 'web-2', service: 'shop-web', ip: '10.20.0.3' },
  db1: { id: 'db-1', service: 'shop-db', ip: '10.20.0.4' },
  cache1: { id: 'cache-1', service: 'shop-cache', ip: '10.20.0.5' },
};
const OUTSIDE = '203.0.113.9';

async function shot(name: string): Promise<void> {
  // Let dialogs and drawers finish their opening animation.
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function login(username: string, password: string): Promise<void> {
  await page.goto(`${controller!.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Goes to a page through the side menu, as a user would (no reload of the app). */
async function openFromMenu(label: string): Promise<void> {
  await page.getByRole('menuitem', { name: label }).click();
}

async function map(): Promise<{ nodes: number; edges: number }> {
  const canvas = page.getByTestId('network-map');
  return { nodes: Number(await canvas.getAttribute('data-nodes')), edges: Number(await canvas.getAttribute('data-edges')) };
}

async function ruleIds(): Promise<number[]> {
  return ((await admin.ok('GET', '/policies')).items as { id: number }[]).map((r) => r.id);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  try {
    controller = await startController();
    admin = await Rest.login(controller.url, 'admin', ADMIN_PASSWORD);
    agent = await TestAgent.register(controller.grpcUrl, JOIN_TOKEN, 'host-e2e');
    await agent!.workloads(Object.values(W));
    await admin.ok('POST', '/groups', { name: 'frontend', comment: 'web tier', criteria: [{ key: 'service', op: '=', value: 'shop-web' }] });
    webToDbRule = (await admin.ok('POST', '/policies', { from: 'svc.shop-web', to: 'svc.shop-db', ports: 'tcp/5432', action: 'allow', comment: 'web reads the database' })).id;
    await admin.ok('POST', '/policies', { from: 'external', to: 'svc.shop-web', ports: 'tcp/443', action: 'allow', comment: 'public HTTPS' });
    await agent!.connections([
      { workloadId: W.db1.id, client: W.web1.ip, server: W.db1.ip, port: 5432, app: 'PostgreSQL', verdict: 'allow', ruleId: webToDbRule, bytes: 2_000_000, sessions: 12 },
      { workloadId: W.db1.id, client: W.web2.ip, server: W.db1.ip, port: 5432, app: 'PostgreSQL', verdict: 'allow', ruleId: webToDbRule, bytes: 800_000, sessions: 5 },
      { workloadId: W.cache1.id, client: W.web1.ip, server: W.cache1.ip, port: 6379, app: 'Redis', verdict: 'violate', bytes: 40_000, sessions: 3 },
      { workloadId: W.web1.id, client: OUTSIDE, server: W.web1.ip, port: 443, app: 'TLS', verdict: 'allow', bytes: 150_000, sessions: 9 },
    ]);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  } catch (e) {
    await cleanUp();
    throw e;
  }
}, 120_000);

async function cleanUp(): Promise<void> {
  agent?.close();
  await browser?.close();
  await controller?.stop();
  if (process.env.MSEG_SCREENSHOTS !== '1') rmSync(SHOTS, { recursive: true, force: true });
}
afterAll(cleanUp, 60_000);

describe('web UI end to end', () => {
  it('signs in', async () => {
    await page.goto(`${controller!.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot('login');
    await login('admin', ADMIN_PASSWORD);
    await expect.poll(() => page.getByRole('menuitem', { name: 'Policies' }).isVisible()).toBe(true);
  });

  it('draws the seeded workloads and conversations on the map', async () => {
    await openFromMenu('Network map');
    const canvas = page.getByTestId('network-map');
    await canvas.waitFor();
    // web-1, web-2, db-1, cache-1 and the outside address; four conversations.
    await expect.poll(map, { timeout: 15_000 }).toEqual({ nodes: 5, edges: 4 });
    expect(await canvas.getAttribute('aria-label')).toBe('Network map: 5 nodes, 4 connections');
    expect(Number(await canvas.getAttribute('data-frames'))).toBeGreaterThan(0);

    // Search and focus opens the node's panel with its peers.
    await page.getByLabel('Find a workload, address or group').fill('db-1');
    await page.locator('.ant-select-item-option', { hasText: 'db-1' }).click();
    const drawer = page.getByRole('dialog');
    await expect.poll(() => drawer.getByText('web-2').first().isVisible()).toBe(true);
    await page.waitForTimeout(500);
    await shot('map');
    await drawer.getByRole('button', { name: 'Close' }).click();

    // Rolled up to groups: svc.shop-web, svc.shop-db, svc.shop-cache and external.
    await page.getByRole('button', { name: 'Roll up to groups' }).click();
    await expect.poll(map).toEqual({ nodes: 4, edges: 3 });
    await page.getByRole('button', { name: 'Show workloads' }).click();
    await expect.poll(map).toEqual({ nodes: 5, edges: 4 });
  });

  it('shows a new connection live, without a reload', async () => {
    const marker = await page.evaluate(() => ((window as unknown as { e2eMarker: number }).e2eMarker = Math.random()));
    await agent!.connections([{ workloadId: W.db1.id, client: W.cache1.ip, server: W.db1.ip, port: 5432, app: 'PostgreSQL', verdict: 'violate', bytes: 5_000 }]);
    await expect.poll(map, { timeout: 15_000 }).toEqual({ nodes: 5, edges: 5 });
    // The same document: the page was not reloaded.
    expect(await page.evaluate(() => (window as unknown as { e2eMarker: number }).e2eMarker)).toBe(marker);
  });

  it('creates, edits, reorders and deletes a rule; an invalid one shows the field error', async () => {
    await openFromMenu('Policies');
    await page.getByRole('button', { name: 'New rule' }).waitFor();
    await shot('policies');

    // Invalid: the API's message appears under Ports.
    await page.getByRole('button', { name: 'New rule' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('From group').fill('svc.shop-cache');
    await dialog.getByLabel('To group').fill('svc.shop-db');
    await dialog.getByLabel('Ports').fill('tcp/99999');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const portsItem = dialog.locator('.ant-form-item').filter({ has: page.getByLabel('Ports') });
    await expect.poll(() => portsItem.locator('.ant-form-item-explain-error').textContent(), { timeout: 10_000 }).toContain('99999');
    await shot('policies-field-error');

    // Fixed and saved: a new rule, last.
    await dialog.getByLabel('Ports').fill('tcp/5432');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const created = (await admin.ok('GET', '/policies')).items.at(-1) as { id: number; from: string; to: string; ports: string };
    expect(created).toMatchObject({ from: 'svc.shop-cache', to: 'svc.shop-db', ports: 'tcp/5432' });
    await page.getByRole('button', { name: `Edit #${created.id}` }).waitFor();

    // Edit.
    await page.getByRole('button', { name: `Edit #${created.id}` }).click();
    await dialog.getByLabel('Ports').fill('tcp/5432,tcp/5433');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(async () => (await admin.ok('GET', `/policies/${created.id}`)).ports).toBe('tcp/5432,tcp/5433');

    // Enable/disable inline.
    await page.getByRole('switch', { name: `Enable rule ${created.id}` }).click();
    await expect.poll(async () => (await admin.ok('GET', `/policies/${created.id}`)).enabled).toBe(false);

    // Reorder: drag the new rule onto the first row.
    const before = await ruleIds();
    expect(before.at(-1)).toBe(created.id);
    const handle = page.getByRole('button', { name: `Drag to reorder rule ${created.id}` });
    const target = page.getByRole('button', { name: `Drag to reorder rule ${before[0]}` });
    const from = (await handle.boundingBox())!;
    const to = (await target.boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 + ((to.y - from.y - 4) * i) / 12);
    await page.mouse.up();
    await expect.poll(ruleIds, { timeout: 10_000 }).toEqual([created.id, ...before.slice(0, -1)]);

    // Delete.
    await page.getByRole('button', { name: `Delete #${created.id}` }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'OK' }).click();
    await expect.poll(async () => (await admin.call('GET', `/policies/${created.id}`)).status).toBe(404);
    await expect.poll(() => page.getByRole('button', { name: `Edit #${created.id}` }).count()).toBe(0);
  });

  it('switches a group to Protect through the preview of what it would block', async () => {
    await openFromMenu('Groups');
    const toggle = page.getByRole('switch', { name: 'Protect mode of svc.shop-cache' });
    await toggle.waitFor();
    await shot('groups');
    await toggle.click();
    const confirm = page.locator('.ant-modal-confirm');
    await confirm.waitFor();
    // web-1 → cache-1 Redis matches no rule: Protect would block it at the cache's ingress.
    await expect.poll(() => confirm.getByTestId('protect-preview').textContent()).toContain('web-1');
    await shot('groups-protect-preview');
    await confirm.getByRole('button', { name: 'Switch to Protect' }).click();
    await expect.poll(async () => (await admin.ok('GET', '/groups/svc.shop-cache')).mode).toBe('protect');
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
  });

  it('saves a screenshot of every page in the menu', async () => {
    const items = page.getByRole('menuitem');
    const labels = (await items.allTextContents()).map((s) => s.trim()).filter((s) => s !== '');
    expect(labels).toEqual(expect.arrayContaining(['Dashboard', 'Network map', 'Policies', 'Groups']));
    for (const label of labels) {
      await openFromMenu(label);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForTimeout(700);
      const path = new URL(page.url()).pathname;
      await shot(path === '/' ? 'dashboard' : path.slice(1).replace(/\//g, '-'));
    }
  });

  it('switches the language to zh-CN and back', async () => {
    await openFromMenu('Policies');
    await page.getByRole('combobox', { name: 'Language' }).click();
    await page.locator('.ant-select-item-option', { hasText: '简体中文' }).click();
    await page.getByRole('menuitem', { name: '策略' }).waitFor();
    await page.getByRole('button', { name: '新建规则' }).waitFor();
    await shot('policies-zh-CN');
    await page.getByRole('combobox', { name: '语言' }).click();
    await page.locator('.ant-select-item-option', { hasText: 'English' }).click();
    await page.getByRole('button', { name: 'New rule' }).waitFor();
  });

  it('gives a reader no edit controls', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await login('reader', READER_PASSWORD);
    await openFromMenu('Policies');
    await page.getByRole('switch', { name: `Enable rule ${webToDbRule}` }).waitFor();
    expect(await page.getByRole('switch', { name: `Enable rule ${webToDbRule}` }).isDisabled()).toBe(true);
    for (const name of ['New rule', `Edit #${webToDbRule}`, `Delete #${webToDbRule}`, `Drag to reorder rule ${webToDbRule}`, 'Import']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    await openFromMenu('Groups');
    const toggle = page.getByRole('switch', { name: 'Protect mode of svc.shop-db' });
    await toggle.waitFor();
    expect(await toggle.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'New group' }).count()).toBe(0);
    await shot('groups-reader');
  });
});
