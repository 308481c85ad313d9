import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeEventSource } from '../../testing/fakeEventSource';
import { renderApp } from '../../testing/render';
import { edge, graph, node, serve, small, summary } from './testGraphs';

describe('Network map page', () => {
  it('asks for the workload-level graph of the last 5 minutes and draws every node and conversation', async () => {
    const queries = serve([small]);
    renderApp('/map', { role: 'reader' });
    await summary(4, 3);
    const q = queries[0];
    expect(q.get('level')).toBe('workload');
    expect(Number(q.get('until')) - Number(q.get('since'))).toBe(5 * 60_000);
  });

  it('when a verdict filter is chosen then only those conversations and their ends stay', async () => {
    serve([small]);
    const user = userEvent.setup();
    renderApp('/map', { role: 'reader' });
    await summary(4, 3);
    await user.click(screen.getByRole('combobox', { name: 'Verdicts' }));
    await user.click(await screen.findByTitle('denied'));
    await summary(2, 1);
  });

  it('when a group is rolled up then its members become one node and a search finds it with its members', async () => {
    serve([small]);
    const user = userEvent.setup();
    renderApp('/map', { role: 'reader' });
    await summary(4, 3);
    await user.click(screen.getByRole('button', { name: 'Roll up to groups' }));
    // svc.web and svc.db as one node each, the outside address stays (2 edges: web → db, address → web).
    await summary(3, 2);

    await user.type(screen.getByRole('combobox', { name: 'Find a workload, address or group' }), 'svc.w');
    await user.click(await screen.findByText('svc.web · group'));
    const drawer = await screen.findByRole('dialog');
    expect(within(drawer).getByText('Members (2)')).toBeInTheDocument();
    await user.click(within(drawer).getByRole('button', { name: 'Expand group' }));
    await summary(4, 3);
  });

  it('above 500 workloads it starts rolled up to groups', async () => {
    const nodes = Array.from({ length: 501 }, (_, i) => node(`w-${i}`, `svc.s${i % 3}`));
    const edges = nodes.slice(1).map((n, i) => edge(nodes[i].id, n.id));
    serve([graph(nodes, edges)]);
    renderApp('/map', { role: 'reader' });
    // Three group nodes; the 500 edges between them fold into the group pairs they join.
    await summary(3, 3);
  });

  it('when every group is shown as workloads then the view fits the larger map', async () => {
    // jsdom lays nothing out: give the map's box a size so the view has something to fit into.
    const box = { clientWidth: 800, clientHeight: 600 };
    const saved = Object.keys(box).map((k) => [k, Object.getOwnPropertyDescriptor(HTMLElement.prototype, k)] as const);
    for (const [k, v] of Object.entries(box)) Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
    try {
      const nodes = Array.from({ length: 501 }, (_, i) => node(`w-${i}`, `svc.s${i % 3}`));
      serve([graph(nodes, nodes.slice(1).map((n, i) => edge(nodes[i].id, n.id)))]);
      const user = userEvent.setup();
      renderApp('/map', { role: 'reader' });
      const canvas = await summary(3, 3);
      await expect.poll(() => canvas.dataset.fitZoom, { timeout: 10_000 }).toBeDefined();
      const rolledUp = Number(canvas.dataset.fitZoom);
      await user.click(screen.getByRole('button', { name: 'Show workloads' }));
      await summary(501, 500);
      await expect.poll(() => Number(canvas.dataset.fitZoom), { timeout: 20_000 }).toBeLessThan(rolledUp / 4);
    } finally {
      for (const [k, d] of saved) if (d) Object.defineProperty(HTMLElement.prototype, k, d);
    }
  });

  it('in the live window new connection data reloads the graph', async () => {
    const grown = graph([...small.nodes, node('cache-1', 'svc.cache')], [...small.edges, edge('web-1', 'cache-1', { ports: ['tcp/6379'] })]);
    const queries = serve([small, grown]);
    renderApp('/map', { role: 'reader' });
    await summary(4, 3);
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit('connections', { count: 1 });
    await summary(5, 4);
    expect(queries).toHaveLength(2);
  });
});
