import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { agent, page } from '../../testing/data';
import { renderApp } from '../../testing/render';
import { server } from '../../testing/server';

describe('Agents page', () => {
  it('when the API fails then the error and its code show with a retry that loads the data', async () => {
    let calls = 0;
    server.use(
      http.get('/api/v1/agents', () => {
        calls++;
        return calls === 1
          ? HttpResponse.json({ error: { code: 'MSEG_ERR_STORE_UNAVAILABLE', message: 'the store does not answer' } }, { status: 503 })
          : HttpResponse.json(page([agent()]));
      }),
    );
    const user = userEvent.setup();
    renderApp('/agents', { role: 'reader' });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The request failed');
    expect(alert).toHaveTextContent('the store does not answer');
    expect(alert).toHaveTextContent('Code: MSEG_ERR_STORE_UNAVAILABLE');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('node-a')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(calls).toBe(2);
  });

  it('when the controller is unreachable then the page says so instead of going blank', async () => {
    server.use(http.get('/api/v1/agents', () => HttpResponse.error()));
    renderApp('/agents', { role: 'reader' });
    expect(await screen.findByRole('alert')).toHaveTextContent('The controller cannot be reached.');
  });

  it('then shows version, heartbeat, data plane state, capture drops and problems', async () => {
    server.use(
      http.get('/api/v1/agents', () =>
        HttpResponse.json(
          page([
            agent(),
            agent({
              id: 'agent-2',
              host: 'node-b',
              version: '0.2.0',
              state: 'offline',
              status: { at: 0, workloads: 1, protectedWorkloads: 0, dataPlane: { running: false, restarts: 3, packets: 10, drops: 4096, sessions: 1 }, problems: ['nftables missing'] },
            }),
            agent({ id: 'agent-3', host: 'node-c', status: null }),
          ]),
        ),
      ),
    );
    renderApp('/agents', { role: 'reader' });
    const row = (await screen.findByText('node-b')).closest('tr')!;
    expect(row).toHaveTextContent('0.2.0');
    expect(row).toHaveTextContent('offline');
    expect(row).toHaveTextContent('stopped');
    expect(row).toHaveTextContent('Restarts: 3');
    expect(row).toHaveTextContent('4,096');
    expect(row).toHaveTextContent('nftables missing');
    expect(screen.getByText('node-a').closest('tr')).toHaveTextContent('running');
    expect(screen.getByText('node-c').closest('tr')).toHaveTextContent('no heartbeat yet');
  });
});
