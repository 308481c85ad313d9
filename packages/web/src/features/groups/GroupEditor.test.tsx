import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { page } from '../../testing/data';
import { renderApp } from '../../testing/render';
import { server } from '../../testing/server';
import type { Criterion, Group } from './types';

const web: Group = {
  name: 'frontends',
  comment: 'web tier',
  criteria: [{ key: 'service', op: '=', value: 'web' }],
  kind: 'user',
  mode: null,
  members: 2,
  createdAt: 0,
  updatedAt: 0,
};

const WORKLOADS = [
  { id: 'c1', name: 'web-1', service: 'web', host: 'node-a' },
  { id: 'c2', name: 'web-2', service: 'web', host: 'node-b' },
  { id: 'c3', name: 'db-1', service: 'db', host: 'node-a' },
];

/** The controller's preview over WORKLOADS for `service =` criteria; a value with "(" is refused as a bad regex would be. */
function previewHandler(asked: Criterion[][]) {
  return http.post('/api/v1/groups/preview', async ({ request }) => {
    const { criteria } = (await request.json()) as { criteria: Criterion[] };
    asked.push(criteria);
    const bad = criteria.findIndex((c) => c.value.includes('('));
    if (bad >= 0) {
      return HttpResponse.json(
        { error: { code: 'MSEG_ERR_VALIDATION', message: `body.criteria.${bad}.value: not a valid regex`, field: `body.criteria.${bad}.value` } },
        { status: 400 },
      );
    }
    const members = WORKLOADS.filter((w) => criteria.length > 0 && criteria.every((c) => c.key === 'service' && c.value === w.service));
    return HttpResponse.json({ members, total: members.length });
  });
}

async function openEditor() {
  const user = userEvent.setup();
  renderApp('/groups', { role: 'admin' });
  await user.click(await screen.findByRole('button', { name: 'Edit' }));
  return { user, drawer: await screen.findByRole('dialog') };
}

describe('Group editor', () => {
  it('when a criterion changes then the member preview follows it before saving', async () => {
    const asked: Criterion[][] = [];
    server.use(http.get('/api/v1/groups', () => HttpResponse.json(page([web]))), previewHandler(asked));
    const { user, drawer } = await openEditor();

    expect(await within(drawer).findByRole('heading', { name: 'Members (2)' })).toBeInTheDocument();
    const list = within(drawer).getByRole('region', { name: 'Members the criteria select' });
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['web-1web · node-a', 'web-2web · node-b']);

    const value = within(drawer).getByRole('textbox', { name: 'Value' });
    await user.clear(value);
    await user.type(value, 'db');
    expect(await within(drawer).findByRole('heading', { name: 'Members (1)' })).toBeInTheDocument();
    expect(within(drawer).getByText('db-1')).toBeInTheDocument();
    expect(within(drawer).queryByText('web-1')).toBeNull();
    expect(asked.at(-1)).toEqual([{ key: 'service', op: '=', value: 'db' }]);
  });

  it('when the controller refuses the criteria then its message shows under the criterion at fault', async () => {
    server.use(http.get('/api/v1/groups', () => HttpResponse.json(page([web]))), previewHandler([]));
    const { user, drawer } = await openEditor();
    await within(drawer).findByRole('heading', { name: 'Members (2)' });

    await user.click(within(drawer).getByRole('button', { name: /Add criterion/ }));
    const second = within(drawer).getAllByRole('textbox', { name: 'Value' })[1];
    await user.type(second, 'x(');
    expect(await within(drawer).findByText('body.criteria.1.value: not a valid regex')).toBeInTheDocument();
    expect(within(drawer).getByRole('heading', { name: 'Members' })).toBeInTheDocument();
    expect(within(drawer).getByText('Correct the criterion marked in red to see the members.')).toBeInTheDocument();

    await user.clear(second);
    await user.type(second, 'web');
    expect(await within(drawer).findByRole('heading', { name: 'Members (2)' })).toBeInTheDocument();
    await waitFor(() => expect(within(drawer).queryByText('body.criteria.1.value: not a valid regex')).toBeNull());
  });
});
