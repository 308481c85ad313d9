import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { page } from '../../testing/data';
import { FakeEventSource } from '../../testing/fakeEventSource';
import { renderApp } from '../../testing/render';
import { server } from '../../testing/server';
import type { Explanation, Rule } from './types';

const rule = (id: number, over: Partial<Rule> = {}): Rule => ({
  id,
  position: id,
  from: 'svc.web',
  to: 'svc.db',
  ports: 'tcp/5432',
  apps: ['PostgreSQL'],
  action: 'allow',
  enabled: true,
  comment: '',
  hits: 0,
  lastHit: null,
  createdAt: Date.UTC(2026, 0, 1),
  updatedAt: Date.UTC(2026, 0, 1),
  ...over,
});

/** The controller's /policies and /groups as the page reads them; `rules` is what GET answers now. */
function serve(rules: Rule[]) {
  const calls = { list: 0, writes: [] as { method: string; path: string; body: unknown }[] };
  const write = async ({ request }: { request: Request }) => {
    calls.writes.push({ method: request.method, path: new URL(request.url).pathname, body: request.method === 'DELETE' ? null : await request.json() });
  };
  server.use(
    http.get('/api/v1/policies', () => {
      calls.list++;
      return HttpResponse.json(page([...rules]));
    }),
    http.get('/api/v1/groups', () => HttpResponse.json(page([{ name: 'svc.web' }, { name: 'svc.db' }]))),
    http.patch('/api/v1/policies/:id', async (info) => {
      await write(info);
      return HttpResponse.json(rule(Number(info.params.id), { enabled: false }));
    }),
    http.delete('/api/v1/policies/:id', async (info) => {
      await write(info);
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return calls;
}

const row = (id: number) => screen.getByText(`${id} · #${id}`, { exact: false }).closest('tr') as HTMLElement;

describe('Policies page', () => {
  afterEach(() => vi.restoreAllMocks());

  it('lists the rules in evaluation order; a reader cannot change them', async () => {
    serve([rule(1), rule(2, { from: 'svc.web', to: 'external', ports: 'tcp/443', apps: ['any'], action: 'deny', enabled: false, hits: 12, lastHit: Date.UTC(2026, 0, 2) })]);
    renderApp('/policies', { role: 'reader' });
    await screen.findByText('1 · #1');
    expect(row(2)).toHaveTextContent('external');
    expect(row(2)).toHaveTextContent('deny');
    expect(screen.getByLabelText('Enable rule 2')).not.toBeChecked();
    expect(screen.getByLabelText('Enable rule 1')).toBeDisabled();
    expect(screen.queryByRole('button', { name: /New rule/ })).toBeNull();
    expect(screen.queryByLabelText('Edit #1')).toBeNull();
    expect(screen.queryByLabelText(/Drag to reorder/)).toBeNull();
  });

  it('a new rule the API rejects shows the message under the field at fault; corrected, it is saved and listed', async () => {
    const rules = [rule(1)];
    const calls = serve(rules);
    const posted: unknown[] = [];
    server.use(
      http.post('/api/v1/policies', async ({ request }) => {
        const body = (await request.json()) as Rule;
        posted.push(body);
        if (body.ports !== 'tcp/80') return HttpResponse.json({ error: { code: 'MSEG_ERR_VALIDATION', message: 'body.ports: port 99999 is out of range', field: 'body.ports' } }, { status: 400 });
        const created = rule(2, body);
        rules.push(created);
        return HttpResponse.json(created, { status: 201 });
      }),
    );
    const user = userEvent.setup();
    renderApp('/policies', { role: 'admin' });
    await screen.findByText('1 · #1');
    await user.click(screen.getByRole('button', { name: /New rule/ }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText('From group'), 'svc.web');
    await user.type(within(dialog).getByLabelText('To group'), ' svc.cache ');
    await user.clear(within(dialog).getByLabelText('Ports'));
    await user.type(within(dialog).getByLabelText('Ports'), 'tcp/99999');
    await user.clear(within(dialog).getByLabelText('Applications'));
    await user.type(within(dialog).getByLabelText('Applications'), 'HTTP, Redis,');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));

    expect(await within(dialog).findByText('body.ports: port 99999 is out of range')).toBeInTheDocument();
    expect(posted[0]).toEqual({ from: 'svc.web', to: 'svc.cache', ports: 'tcp/99999', apps: ['HTTP', 'Redis'], action: 'allow', enabled: true, comment: '' });

    await user.clear(within(dialog).getByLabelText('Ports'));
    await user.type(within(dialog).getByLabelText('Ports'), 'tcp/80');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Rule #2 saved')).toBeInTheDocument();
    expect(await screen.findByText('2 · #2')).toBeInTheDocument();
    expect(calls.list).toBe(2);
  });

  it('a rule moved down with the keyboard is saved in its new place', async () => {
    serve([rule(1), rule(2), rule(3)]);
    const orders: unknown[] = [];
    server.use(
      http.post('/api/v1/policies/reorder', async ({ request }) => {
        orders.push(await request.json());
        return HttpResponse.json(page([rule(2), rule(1), rule(3)]));
      }),
    );
    // dnd-kit finds the row below by the rows' boxes; jsdom lays nothing out, so rows get the
    // boxes a browser would give them: 40 px each, one under the other.
    const real = Element.prototype.getBoundingClientRect;
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
      const tr = this.closest('tr[data-row-key]');
      if (!tr) return real.call(this);
      const top = 40 * [...tr.parentElement!.children].indexOf(tr);
      return DOMRect.fromRect({ x: 0, y: top, width: 1000, height: 40 });
    });
    const user = userEvent.setup();
    renderApp('/policies', { role: 'admin' });
    await screen.findByText('3 · #3');
    screen.getByLabelText('Drag to reorder rule 1').focus();
    await user.keyboard(' ');
    await user.keyboard('{ArrowDown}');
    await user.keyboard(' ');
    await expect.poll(() => orders).toEqual([{ ids: [2, 1, 3] }]);
    expect(await screen.findByText('Order saved')).toBeInTheDocument();
  });

  it('a rule is disabled with its switch and deleted after confirming', async () => {
    const calls = serve([rule(1), rule(2)]);
    const user = userEvent.setup();
    renderApp('/policies', { role: 'admin' });
    await screen.findByText('2 · #2');
    await user.click(screen.getByLabelText('Enable rule 1'));
    await expect.poll(() => calls.writes[0]).toEqual({ method: 'PATCH', path: '/api/v1/policies/1', body: { enabled: false } });

    await user.click(screen.getByLabelText('Delete #2'));
    expect(calls.writes).toHaveLength(1);
    // The confirmation's OK button.
    await user.click((await screen.findByText('OK')).closest('button')!);
    expect(await screen.findByText('Rule #2 deleted')).toBeInTheDocument();
    expect(calls.writes[1]).toEqual({ method: 'DELETE', path: '/api/v1/policies/2', body: null });
  });

  it('"create rule from this conversation" on the map opens the form filled from the link', async () => {
    serve([]);
    renderApp('/policies?new=1&from=w-client&to=w-server&ports=tcp/6379&apps=Redis&action=deny', { role: 'admin' });
    const dialog = await screen.findByRole('dialog');
    await expect.poll(() => within(dialog).getByLabelText('From group')).toHaveValue('w-client');
    expect(within(dialog).getByLabelText('To group')).toHaveValue('w-server');
    expect(within(dialog).getByLabelText('Ports')).toHaveValue('tcp/6379');
    expect(within(dialog).getByLabelText('Applications')).toHaveValue('Redis');
    expect(within(dialog).getByRole('radio', { name: 'deny' })).toBeChecked();
  });

  it('explains a flow: the verdict, the deciding rule and who enforces it; an unknown end is an error', async () => {
    serve([rule(1)]);
    const explained: Explanation = {
      verdict: 'deny',
      ruleId: 1,
      rule: rule(1, { action: 'deny' }),
      enforcedBy: 'server',
      client: { ref: 'svc.web', mode: 'monitor', groups: ['svc.web'] },
      server: { ref: 'svc.db', mode: 'protect', groups: ['svc.db'] },
    };
    const queries: URLSearchParams[] = [];
    server.use(
      http.get('/api/v1/policies/explain', ({ request }) => {
        const q = new URL(request.url).searchParams;
        queries.push(q);
        if (q.get('from') === 'ghost') return HttpResponse.json({ error: { code: 'MSEG_ERR_NOT_FOUND', message: 'query.from: no IP address, running workload id or group name "ghost"', field: 'query.from' } }, { status: 404 });
        return HttpResponse.json(explained);
      }),
    );
    const user = userEvent.setup();
    renderApp('/policies', { role: 'reader' });
    await screen.findByText('1 · #1');
    await user.type(screen.getByLabelText('Client (workload, group or IP)'), ' svc.web ');
    await user.type(screen.getByLabelText('Server (workload, group or IP)'), 'svc.db');
    await user.type(screen.getByLabelText('Port (e.g. tcp/5432)'), 'tcp/5432');
    await user.click(screen.getByRole('button', { name: 'Explain' }));
    const result = await screen.findByTestId('explain-result');
    expect(result).toHaveTextContent('denied');
    expect(result).toHaveTextContent('#1');
    expect(result).toHaveTextContent('the server (ingress)');
    expect(result).toHaveTextContent('Modes: client monitor, server protect');
    expect(Object.fromEntries(queries[0])).toEqual({ from: 'svc.web', to: 'svc.db', port: 'tcp/5432' });

    await user.clear(screen.getByLabelText('Client (workload, group or IP)'));
    await user.type(screen.getByLabelText('Client (workload, group or IP)'), 'ghost');
    await user.click(screen.getByRole('button', { name: 'Explain' }));
    expect(await screen.findByText(/no IP address, running workload id or group name "ghost"/)).toBeInTheDocument();
    expect(screen.queryByTestId('explain-result')).toBeNull();
  });

  it('another user\'s policy change reloads the rules', async () => {
    const rules = [rule(1)];
    serve(rules);
    renderApp('/policies', { role: 'reader' });
    await screen.findByText('1 · #1');
    rules.push(rule(2, { ports: 'tcp/6379' }));
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit('policy', { revision: 2 });
    expect(await screen.findByText('tcp/6379')).toBeInTheDocument();
  });
});
