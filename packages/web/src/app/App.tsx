/** Providers and routes: the login page while signed out, the pages in the layout once signed in. */
import { App as AntApp, Button, Result } from 'antd';
import type { ReactNode } from 'react';
import { Route, Routes, useNavigate } from 'react-router';
import { LoginPage } from '../features/login/LoginPage';
import { LiveEventsProvider, type EventSourceFactory } from '../lib/events';
import { AppLayout } from './AppLayout';
import { AuthProvider, useAuth } from './auth/AuthProvider';
import { I18nProvider, useT } from './i18n/I18nProvider';
import { ROUTES } from './routes';

function NotFound() {
  const t = useT();
  const navigate = useNavigate();
  return <Result status="404" title="404" subTitle={t('app.notFound')} extra={<Button onClick={() => navigate('/')}>{t('app.backHome')}</Button>} />;
}

function SignedIn({ eventSource }: { eventSource?: EventSourceFactory }) {
  const { session } = useAuth();
  // Any path while signed out shows the login form in place, so after signing in the user lands
  // on the page they asked for.
  if (!session) return <LoginPage />;
  return (
    <LiveEventsProvider token={session.token} factory={eventSource}>
      <Routes>
        <Route element={<AppLayout />}>
          {ROUTES.map(({ path, Page }) => (
            <Route key={path} path={path} element={<Page />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </LiveEventsProvider>
  );
}

/** The whole UI inside a router (BrowserRouter in main.tsx, MemoryRouter in tests). */
export function App({ eventSource }: { eventSource?: EventSourceFactory }): ReactNode {
  return (
    <I18nProvider>
      <AntApp>
        <AuthProvider>
          <SignedIn eventSource={eventSource} />
        </AuthProvider>
      </AntApp>
    </I18nProvider>
  );
}
