/** "Can A reach B on tcp/5432?": the verdict, the deciding rule and the side that enforces it. */
import { Alert, Button, Card, Descriptions, Form, Input, Space, Tag } from 'antd';
import { useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { explain } from './api';
import type { Explanation } from './types';

const COLOURS = { allow: 'green', violate: 'orange', deny: 'red' } as const;

export function ExplainForm() {
  const t = useT();
  const [result, setResult] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (v: { from: string; to: string; port: string; app?: string }) => {
    setBusy(true);
    setError(null);
    try {
      setResult(await explain({ from: v.from.trim(), to: v.to.trim(), port: v.port.trim(), app: v.app?.trim() || undefined }));
    } catch (e) {
      setResult(null);
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card size="small" title={t('policies.explain.title')}>
      <Form layout="inline" onFinish={submit} name="explain">
        <Form.Item name="from" rules={[{ required: true, message: t('policies.form.required') }]}>
          <Input placeholder={t('policies.explain.from')} aria-label={t('policies.explain.from')} style={{ width: 230 }} />
        </Form.Item>
        <Form.Item name="to" rules={[{ required: true, message: t('policies.form.required') }]}>
          <Input placeholder={t('policies.explain.to')} aria-label={t('policies.explain.to')} style={{ width: 230 }} />
        </Form.Item>
        <Form.Item name="port" rules={[{ required: true, message: t('policies.form.required') }]}>
          <Input placeholder={t('policies.explain.port')} aria-label={t('policies.explain.port')} style={{ width: 170 }} />
        </Form.Item>
        <Form.Item name="app">
          <Input placeholder={t('policies.explain.app')} aria-label={t('policies.explain.app')} style={{ width: 170 }} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy}>
          {t('policies.explain.submit')}
        </Button>
      </Form>
      {error && <Alert type="error" showIcon message={error} style={{ marginTop: 12 }} />}
      {result && (
        <Descriptions size="small" column={1} style={{ marginTop: 12 }} data-testid="explain-result">
          <Descriptions.Item label={t('policies.explain.verdict')}>
            <Tag color={COLOURS[result.verdict]}>{t(`policies.verdict.${result.verdict}`)}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t('policies.explain.rule')}>
            {result.rule ? (
              <Space>
                <Tag>#{result.rule.id}</Tag>
                {`${result.rule.from} → ${result.rule.to} ${result.rule.ports} (${t(`policies.action.${result.rule.action}`)})`}
              </Space>
            ) : (
              t('policies.explain.implicit')
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('policies.explain.enforcedBy')}>
            {t(`policies.explain.enforced.${result.enforcedBy}`)} · {t('policies.explain.modes', { client: result.client.mode ?? '—', server: result.server.mode ?? '—' })}
          </Descriptions.Item>
        </Descriptions>
      )}
    </Card>
  );
}
