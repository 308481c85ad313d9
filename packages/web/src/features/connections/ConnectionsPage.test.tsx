import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { FakeEventSource } from '../../testing/fakeEventSource';
import { conversation, page } from '../../testing/data';
import { renderApp, TOKEN } from '../../testing/render';
import { server } from '../../testing/server';

const workloads = http.get('/api/v1/workloads', () =>
  HttpResponse.json(
    page([
      { id: 'w-client', name: 'web-1' },
      { id: 'w-server', name: 'db-1' },
    ]),
  ),
);

describe('Connections page', () => {
  it('when the event stream reports new connections then the new row appears without a reload', async () => {
    const rows = [conversation()];
    const queries: string[] = [];
    server.use(
      workloads,
      http.get('/api/v1/connections', ({ request }) => {
        queries.push(new URL(request.url).search);
        return HttpResponse.json(page([...rows]));
      }),
    );
    renderApp('/connections', { role: 'reader' });
    expect(await screen.findByText('postgresql')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'web-1' })).toBeInTheDocument();
    expect(screen.queryByText('redis')).toBeNull();

    const source = FakeEventSource.latest();
    expect(source.url).toBe(`/api/v1/events?token=${TOKEN}`);
    source.open();
    rows.unshift(conversation({ app: 'redis', serverPort: 6379, verdict: 'violate', ruleId: 0, clientWorkload: '', clientIp: '203.0.113.9' }));
    source.emit('connections', { count: 1 });

    expect(await screen.findByText('redis')).toBeInTheDocument();
    const row = screen.getByText('redis').closest('tr')!;
    expect(row).toHaveTextContent('203.0.113.9');
    expect(row).toHaveTextContent('external');
    expect(row).toHaveTextContent('violation');
    expect(row).toHaveTextContent('implicit deny');
    expect(screen.getByText('postgresql')).toBeInTheDocument();
    expect(queries).toHaveLength(2);
  });

  it('when live updates are off then events do not reload the table', async () => {
    let calls = 0;
    server.use(
      workloads,
      http.get('/api/v1/connections', () => {
        calls++;
        return HttpResponse.json(page([conversation()]));
      }),
    );
    const user = userEvent.setup();
    renderApp('/connections', { role: 'reader' });
    await screen.findByText('postgresql');
    await user.click(screen.getByRole('switch', { name: 'Live updates' }));
    FakeEventSource.latest().emit('connections', { count: 3 });
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1);
  });

  it('when filtered then the filters reach the API and stay in the URL', async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      workloads,
      http.get('/api/v1/connections', ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json(page([]));
      }),
    );
    const user = userEvent.setup();
    renderApp('/connections?verdict=deny&window=15m', { role: 'reader' });
    await screen.findByRole('heading', { name: 'Connections' });
    await user.type(screen.getByLabelText('Application'), 'http');
    await user.type(screen.getByLabelText('Port'), '8080');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    await screen.findAllByText('No data');
    const last = () => queries.at(-1)!;
    await expect.poll(() => last().get('app')).toBe('http');
    expect(last().get('port')).toBe('8080');
    expect(last().get('verdict')).toBe('deny');
    const since = Number(last().get('since'));
    expect(Date.now() - since).toBeGreaterThanOrEqual(15 * 60_000);
    expect(Date.now() - since).toBeLessThan(16 * 60_000);
    expect(queries[0].get('verdict')).toBe('deny');
  });
});
