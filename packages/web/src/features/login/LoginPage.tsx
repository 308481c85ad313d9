/** The sign-in form, shown in place of any page while there is no session. */
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../../app/auth/AuthProvider';
import { LanguageSelect } from '../../app/LanguageSelect';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiError } from '../../lib/api';

interface Values {
  username: string;
  password: string;
}

export function LoginPage() {
  const t = useT();
  const { login } = useAuth();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async ({ username, password }: Values) => {
    setBusy(true);
    setError(undefined);
    try {
      await login(username, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'MSEG_ERR_AUTH_BAD_CREDENTIALS') setError(t('login.badCredentials'));
      else if (err instanceof ApiError && err.code === 'MSEG_ERR_AUTH_RATE_LIMITED') setError(t('login.rateLimited', { message: err.message }));
      else if (err instanceof ApiError && err.status === 0) setError(t('error.network'));
      else setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f0f2f5' }}>
      <Card style={{ width: 360 }}>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('login.title')}
          </Typography.Title>
          <LanguageSelect />
        </div>
        {error ? <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} role="alert" /> : null}
        <Form<Values> layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.required') }]}>
            <Input autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.required') }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
