import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { agent, page } from '../testing/data';
import { renderApp, signIn } from '../testing/render';
import { server } from '../testing/server';
import { AuthProvider, SESSION_STORAGE_KEY, useCanEdit } from './auth/AuthProvider';
import { LANG_STORAGE_KEY } from './i18n/I18nProvider';

const agentsHandler = () => http.get('/api/v1/agents', () => HttpResponse.json(page([agent()])));

describe('when signed out', () => {
  it('then any page shows the login form, and signing in shows that page', async () => {
    let body: unknown;
    server.use(
      http.post('/api/v1/auth/login', async ({ request }) => {
        body = await request.json();
        return HttpResponse.json({ token: 'tok-login', expiresAt: Date.now() + 60_000, role: 'admin', username: 'admin' });
      }),
      http.get('/api/v1/agents', ({ request }) =>
        request.headers.get('authorization') === 'Bearer tok-login' ? HttpResponse.json(page([agent()])) : HttpResponse.json({ error: { code: 'MSEG_ERR_AUTH_REQUIRED', message: 'no' } }, { status: 401 }),
      ),
    );
    const user = userEvent.setup();
    renderApp('/agents');
    await user.type(screen.getByLabelText('Username'), 'admin');
    await user.type(screen.getByLabelText('Password'), 'admin-pass');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Agents' })).toBeInTheDocument();
    expect(await screen.findByText('node-a')).toBeInTheDocument();
    expect(body).toEqual({ username: 'admin', password: 'admin-pass' });
    expect(JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY)!)).toMatchObject({ token: 'tok-login', role: 'admin' });
  });

  it('then wrong credentials show the translated message and keep the form', async () => {
    server.use(http.post('/api/v1/auth/login', () => HttpResponse.json({ error: { code: 'MSEG_ERR_AUTH_BAD_CREDENTIALS', message: 'wrong username or password' } }, { status: 401 })));
    const user = userEvent.setup();
    renderApp('/');
    await user.type(screen.getByLabelText('Username'), 'admin');
    await user.type(screen.getByLabelText('Password'), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong username or password.');
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });
});

describe('when signed in', () => {
  it('then logging out ends the session on the controller and shows the login form', async () => {
    let loggedOut = '';
    server.use(
      agentsHandler(),
      http.post('/api/v1/auth/logout', ({ request }) => {
        loggedOut = request.headers.get('authorization') ?? '';
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const user = userEvent.setup();
    renderApp('/agents', { role: 'admin' });
    await screen.findByText('node-a');
    await user.click(screen.getByRole('button', { name: /Log out/ }));
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(loggedOut).toBe('Bearer test-token-abc');
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('then a 401 from the API (session expired) brings the login form back', async () => {
    server.use(http.get('/api/v1/agents', () => HttpResponse.json({ error: { code: 'MSEG_ERR_AUTH_REQUIRED', message: 'token unknown or expired; log in again' } }, { status: 401 })));
    renderApp('/agents', { role: 'reader' });
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('then an unknown path shows a not-found page inside the layout', async () => {
    renderApp('/no/such/page', { role: 'admin' });
    expect(await screen.findByText('This page does not exist.')).toBeInTheDocument();
    expect(screen.getByRole('menuitem', { name: /Dashboard/ })).toBeInTheDocument();
  });
});

describe('roles', () => {
  function EditButton() {
    return useCanEdit() ? <button type="button">Edit</button> : <span>view only</span>;
  }

  it('when the user is an admin then edit controls show', () => {
    signIn('admin');
    render(
      <AuthProvider>
        <EditButton />
      </AuthProvider>,
    );
    expect(screen.getByRole('button', { name: 'Edit' })).toBeInTheDocument();
  });

  it('when the user is a reader then no edit control shows and the header says read-only', async () => {
    signIn('reader');
    render(
      <AuthProvider>
        <EditButton />
      </AuthProvider>,
    );
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.getByText('view only')).toBeInTheDocument();
    server.use(agentsHandler());
    renderApp('/agents', { role: 'reader' });
    expect(await screen.findByText('read-only')).toBeInTheDocument();
  });
});

describe('language', () => {
  it('when switched to zh-CN then the menu, the pages and Ant Design speak Chinese, and the choice survives a reload', async () => {
    server.use(http.get('/api/v1/agents', () => HttpResponse.json(page([]))));
    const user = userEvent.setup();
    const first = renderApp('/agents', { role: 'admin' });
    expect(await screen.findByRole('heading', { name: 'Agents' })).toBeInTheDocument();
    expect((await screen.findAllByText('No data'))[0]).toBeInTheDocument();

    await user.click(screen.getByRole('combobox', { name: 'Language' }));
    await user.click(await screen.findByTitle('简体中文'));
    expect(await screen.findByRole('heading', { name: '代理' })).toBeInTheDocument();
    expect(screen.getByRole('menuitem', { name: /仪表盘/ })).toBeInTheDocument();
    expect((await screen.findAllByText('暂无数据'))[0]).toBeInTheDocument();
    expect(localStorage.getItem(LANG_STORAGE_KEY)).toBe('zh-CN');
    expect(document.documentElement.lang).toBe('zh-CN');

    first.unmount();
    renderApp('/agents', { role: 'admin' });
    expect(await screen.findByRole('heading', { name: '代理' })).toBeInTheDocument();
    await user.click(screen.getByRole('combobox', { name: '语言' }));
    await user.click(await screen.findByTitle('English'));
    const heading = await screen.findByRole('heading', { name: 'Agents' });
    expect(within(heading).queryByText('代理')).toBeNull();
    expect(localStorage.getItem(LANG_STORAGE_KEY)).toBe('en');
  });
});
