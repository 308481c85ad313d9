import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { renderApp } from '../../testing/render';
import { server } from '../../testing/server';
import type { Explanation } from './types';
import { serve, small, summary } from './testGraphs';

// Its own file: positions are remembered per page load (module state), and this test starts
// from positions it sets.
describe('Network map canvas', () => {
  it('a click on a node opens its panel, a click on a conversation the conversation, a click on nothing closes them', async () => {
    serve([small]);
    const side = { kind: 'workload' as const, workload: null, groups: [], mode: 'protect' as const, decision: null };
    const explained: Explanation = {
      verdict: 'allow',
      ruleId: 1,
      rule: { id: 1, from: 'svc.web', to: 'svc.db', ports: 'tcp/5432', apps: ['any'], action: 'allow', comment: '' },
      enforcedBy: 'server',
      flow: { proto: 6, port: 5432, app: 'PostgreSQL' },
      client: { ...side, ref: 'web-1' },
      server: { ...side, ref: 'db-1' },
    };
    const explains: URLSearchParams[] = [];
    server.use(
      http.get('/api/v1/policies/explain', ({ request }) => {
        explains.push(new URL(request.url).searchParams);
        return HttpResponse.json(explained);
      }),
    );
    // Remembered positions: the layout keeps them, so the test knows where each node is drawn
    // (jsdom has no layout: the canvas is at 0,0 and unscaled).
    sessionStorage.setItem('mseg.map.positions', JSON.stringify({ 'web-1': [100, 100], 'web-2': [100, 300], 'db-1': [400, 100], '203.0.113.9': [100, 500] }));
    renderApp('/map', { role: 'reader' });
    const canvas = await summary(4, 3);
    // jsdom has no pointer capture; the canvas asks for it on every press.
    canvas.setPointerCapture ??= () => {};
    // The scene reaches the renderer in an effect after the summary is rendered.
    await waitFor(() => expect(canvas).toHaveAttribute('data-nodes', '4'));
    const click = (x: number, y: number) => {
      fireEvent.pointerDown(canvas, { clientX: x, clientY: y, pointerId: 1 });
      fireEvent.pointerUp(canvas, { clientX: x, clientY: y, pointerId: 1 });
    };

    click(401, 99);
    const drawer = await screen.findByRole('dialog');
    expect(drawer.querySelector('.ant-drawer-title')).toHaveTextContent(/^db-1$/);
    expect(within(drawer).getByText('Protect')).toBeInTheDocument();

    click(250, 101);
    expect(await within(drawer).findByText('web-1 → db-1')).toBeInTheDocument();
    // The conversation's verdict as the current policy decides it.
    await expect.poll(() => drawer.textContent).toContain('rule #1: svc.web → svc.db tcp/5432');
    expect(Object.fromEntries(explains[0])).toEqual({ from: 'web-1', to: 'db-1', port: 'tcp/5432', app: 'PostgreSQL' });

    click(700, 700);
    await expect.poll(() => screen.queryByText('web-1 → db-1')).toBeNull();
  });
});
