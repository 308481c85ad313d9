import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { page, violation } from '../../testing/data';
import { FakeEventSource } from '../../testing/fakeEventSource';
import { renderApp } from '../../testing/render';
import { server } from '../../testing/server';

const workloads = http.get('/api/v1/workloads', () => HttpResponse.json(page([{ id: 'w-client', name: 'web-1' }])));

describe('Violations page', () => {
  it('when opened from a link then its filters reach the API, numbers as numbers, and a new search keeps the URL in step', async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      workloads,
      http.get('/api/v1/violations', ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json(page([violation()]));
      }),
    );
    const user = userEvent.setup();
    renderApp('/violations?rule=0&action=deny', { role: 'reader' });
    await screen.findByText('ssh');
    expect([queries[0].get('rule'), queries[0].get('action'), queries[0].get('limit'), queries[0].get('offset')]).toEqual(['0', 'deny', '50', '0']);
    expect(screen.getByLabelText('Rule')).toHaveValue('0');

    await user.type(screen.getByLabelText('Either end'), '  svc.db ');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    await expect.poll(() => queries.at(-1)!.get('workload')).toBe('svc.db');
    expect(queries.at(-1)!.get('rule')).toBe('0');
  });

  it('when a row is clicked then the drawer shows the violation in full', async () => {
    server.use(
      workloads,
      http.get('/api/v1/violations', () => HttpResponse.json(page([violation({ reportedBy: 'nflog', enforcedBy: 'both' })]))),
    );
    const user = userEvent.setup();
    renderApp('/violations', { role: 'reader' });
    await user.click(await screen.findByText('ssh'));
    const drawer = await screen.findByRole('dialog');
    expect(within(drawer).getByText('Violation #7')).toBeInTheDocument();
    expect(within(drawer).getByText('nflog')).toBeInTheDocument();
    expect(within(drawer).getByText('both')).toBeInTheDocument();
    expect(within(drawer).getByText('tcp/22')).toBeInTheDocument();
  });

  it('when new violations arrive then only the first page reloads', async () => {
    const pages: (string | null)[] = [];
    server.use(
      workloads,
      http.get('/api/v1/violations', ({ request }) => {
        pages.push(new URL(request.url).searchParams.get('offset'));
        return HttpResponse.json(page([violation()], 200));
      }),
    );
    renderApp('/violations?page=2', { role: 'reader' });
    await screen.findByText('ssh');
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit('violations', { count: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(pages).toEqual(['50']);

    renderApp('/violations', { role: 'reader' });
    await screen.findAllByText('ssh');
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit('violations', { count: 1 });
    await expect.poll(() => pages.filter((p) => p === '0').length).toBe(2);
  });
});
