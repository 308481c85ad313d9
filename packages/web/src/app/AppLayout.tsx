/** The frame of every signed-in page: side menu, header (live status, language, user, logout). */
import { LogoutOutlined } from '@ant-design/icons';
import { Badge, Button, Layout, Menu, Space, Spin, Tag, Typography } from 'antd';
import { Suspense } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { useLiveConnected } from '../lib/events';
import { useAuth } from './auth/AuthProvider';
import { useT } from './i18n/I18nProvider';
import { LanguageSelect } from './LanguageSelect';
import { PageErrorBoundary } from './PageErrorBoundary';
import { ROUTES } from './routes';

const NAV = ROUTES.filter((r) => r.nav);

/** The menu entry of a location: the longest nav path that prefixes it (`/workloads/x` → Workloads). */
export function navKeyOf(pathname: string): string {
  let best = '/';
  for (const r of NAV) if ((pathname === r.path || pathname.startsWith(`${r.path}/`)) && r.path.length > best.length) best = r.path;
  return best;
}

export function AppLayout() {
  const t = useT();
  const { session, logout } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const live = useLiveConnected();

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={56} theme="dark">
        <div style={{ color: '#fff', fontWeight: 600, fontSize: 18, padding: '16px 20px' }}>{t('app.title')}</div>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={[navKeyOf(location.pathname)]}
          onClick={({ key }) => navigate(key)}
          items={NAV.map((r) => ({ key: r.path, icon: r.nav!.icon, label: t(r.nav!.key) }))}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', padding: '0 24px', display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <Typography.Text type="secondary">{t('app.subtitle')}</Typography.Text>
          <Space size="middle">
            <Badge status={live ? 'success' : 'default'} text={live ? t('common.live') : t('common.paused')} />
            <LanguageSelect />
            <span>
              {session?.username} {session?.role === 'reader' ? <Tag>{t('app.readOnly')}</Tag> : null}
            </span>
            <Button icon={<LogoutOutlined />} onClick={() => void logout()}>
              {t('app.logout')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>
          <PageErrorBoundary resetKey={location.pathname}>
            <Suspense fallback={<Spin tip={t('app.loading')}><div style={{ minHeight: 200 }} /></Spin>}>
              <Outlet />
            </Suspense>
          </PageErrorBoundary>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
