/**
 * Conversations in a time window, filtered by either end, application, port and verdict. While
 * live updates are on, new connection data from the event stream reloads the current page (at
 * most every 2 s) without reloading the browser page.
 */
import { Button, Form, Input, InputNumber, Select, Space, Switch, Table, Typography } from 'antd';
import { useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { Endpoint } from '../../components/Endpoint';
import { VerdictTag } from '../../components/tags';
import { useLiveEvents } from '../../lib/events';
import { formatBytes, formatTime, portName } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { useUrlFilters } from '../../lib/useUrlFilters';
import { isWindowName, sinceOf, WINDOW_LABELS, WINDOWS, type WindowName } from '../../lib/window';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listConnections } from './api';
import { VERDICTS, type Conversation, type Verdict } from './types';

const FILTERS = ['from', 'to', 'app', 'port', 'verdict', 'window'] as const;
export const LIVE_RELOAD_MS = 2_000;

interface Values {
  from?: string;
  to?: string;
  app?: string;
  port?: number | null;
  verdict?: Verdict;
  window: WindowName;
}

function rowKey(c: Conversation): string {
  return [c.clientWorkload, c.clientIp, c.serverWorkload, c.serverIp, c.proto, c.serverPort, c.app, c.verdict, c.ruleId].join(' ');
}

export function ConnectionsPage() {
  const t = useT();
  const names = useWorkloadNames();
  const f = useUrlFilters(FILTERS, { window: '1h' });
  const [live, setLive] = useState(true);
  const window: WindowName = isWindowName(f.values.window ?? null) ? (f.values.window as WindowName) : '1h';
  const [loadedAt, setLoadedAt] = useState<number>();
  const state = useApi(async (signal) => {
    const page = await listConnections(
      {
        from: f.values.from,
        to: f.values.to,
        app: f.values.app,
        port: f.values.port === undefined ? undefined : Number(f.values.port),
        verdict: f.values.verdict as Verdict | undefined,
        since: sinceOf(window),
        limit: f.size,
        offset: (f.page - 1) * f.size,
      },
      signal,
    );
    setLoadedAt(Date.now());
    return page;
  }, [f.key]);
  const reload = useThrottled(state.reload, LIVE_RELOAD_MS);
  useLiveEvents(['connections'], () => {
    if (live) reload();
  });

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('connections.title')}</Typography.Title>
      <Form<Values>
        layout="inline"
        key={f.key}
        initialValues={{ ...f.values, port: f.values.port === undefined ? undefined : Number(f.values.port), window }}
        onFinish={(v) =>
          f.setFilters({
            from: v.from?.trim(),
            to: v.to?.trim(),
            app: v.app?.trim(),
            port: v.port === undefined || v.port === null ? undefined : String(v.port),
            verdict: v.verdict,
            window: v.window,
          })
        }
        style={{ rowGap: 8 }}
      >
        <Form.Item name="from" label={t('connections.from')} tooltip={t('connections.endpointHelp')}>
          <Input allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="to" label={t('connections.to')} tooltip={t('connections.endpointHelp')}>
          <Input allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="app" label={t('field.app')}>
          <Input allowClear style={{ width: 120 }} />
        </Form.Item>
        <Form.Item name="port" label={t('field.port')} rules={[{ type: 'integer', min: 0, max: 65535, message: t('connections.badPort') }]}>
          <InputNumber style={{ width: 100 }} />
        </Form.Item>
        <Form.Item name="verdict" label={t('field.verdict')}>
          <Select allowClear style={{ width: 120 }} options={VERDICTS.map((v) => ({ value: v, label: t(`verdict.${v}`) }))} />
        </Form.Item>
        <Form.Item name="window" label={t('common.window')}>
          <Select style={{ width: 150 }} options={(Object.keys(WINDOWS) as WindowName[]).map((w) => ({ value: w, label: t(WINDOW_LABELS[w]) }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('common.search')}
        </Button>
      </Form>
      <Space>
        <Switch checked={live} onChange={setLive} aria-label={t('connections.live')} />
        <span>{t('connections.live')}</span>
        {loadedAt ? <Typography.Text type="secondary">{t('connections.updated', { time: formatTime(loadedAt) })}</Typography.Text> : null}
      </Space>
      {state.error ? (
        <ApiErrorState error={state.error} onRetry={state.reload} />
      ) : (
        <Table<Conversation>
          rowKey={rowKey}
          size="middle"
          loading={state.loading && !state.data}
          dataSource={state.data?.items}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[
            { title: t('field.client'), key: 'client', render: (_, c) => <Endpoint workload={c.clientWorkload} ip={c.clientIp} names={names} /> },
            { title: t('field.server'), key: 'server', render: (_, c) => <Endpoint workload={c.serverWorkload} ip={c.serverIp} names={names} /> },
            { title: t('field.port'), key: 'port', render: (_, c) => <Typography.Text code>{portName(c.proto, c.serverPort)}</Typography.Text> },
            { title: t('field.app'), dataIndex: 'app' },
            { title: t('field.verdict'), dataIndex: 'verdict', render: (v: Verdict) => <VerdictTag verdict={v} /> },
            { title: t('field.rule'), dataIndex: 'ruleId', render: (id: number, c) => (id !== 0 ? `#${id}` : c.verdict === 'allow' ? '–' : t('field.implicitDeny')) },
            { title: t('common.sessions'), dataIndex: 'sessions', align: 'right' },
            { title: t('common.bytes'), dataIndex: 'bytes', align: 'right', render: (b: number) => formatBytes(b) },
            { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
          ]}
        />
      )}
    </Space>
  );
}
