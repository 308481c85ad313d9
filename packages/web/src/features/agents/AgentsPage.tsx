/** The agents: host, version, state, last heartbeat and what it said about the data plane. */
import { Badge, Button, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { AgentStateBadge } from '../../components/tags';
import { useLiveEvents } from '../../lib/events';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { useUrlFilters } from '../../lib/useUrlFilters';
import { listAgents } from './api';
import type { Agent, AgentState } from './types';

const STATES: AgentState[] = ['online', 'offline', 'revoked'];
const FILTERS = ['host', 'state'] as const;

export function AgentsPage() {
  const t = useT();
  const f = useUrlFilters(FILTERS);
  const state = useApi(
    (signal) =>
      listAgents({ limit: f.size, offset: (f.page - 1) * f.size, host: f.values.host, state: f.values.state as AgentState | undefined }, signal),
    [f.key],
  );
  const reload = useThrottled(state.reload, 2_000);
  // Heartbeats do not raise events; state changes (online, offline, revoked) and new workloads do.
  useLiveEvents(['agents', 'workloads'], reload);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('agents.title')}</Typography.Title>
      <Form
        layout="inline"
        key={f.key}
        initialValues={f.values}
        onFinish={(v: { host?: string; state?: string }) => f.setFilters({ host: v.host?.trim(), state: v.state })}
      >
        <Form.Item name="host" label={t('agents.host')}>
          <Input allowClear placeholder={t('agents.filterHost')} />
        </Form.Item>
        <Form.Item name="state" label={t('agents.state')}>
          <Select allowClear style={{ width: 140 }} options={STATES.map((s) => ({ value: s, label: t(`agentState.${s}`) }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('common.search')}
        </Button>
      </Form>
      {state.error ? (
        <ApiErrorState error={state.error} onRetry={state.reload} />
      ) : (
        <Table<Agent>
          rowKey="id"
          size="middle"
          loading={state.loading}
          dataSource={state.data?.items}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[
            { title: t('agents.host'), dataIndex: 'host', render: (host: string, a) => <Typography.Text title={a.id}>{host}</Typography.Text> },
            { title: t('agents.version'), dataIndex: 'version' },
            { title: t('agents.state'), dataIndex: 'state', render: (s: AgentState) => <AgentStateBadge state={s} /> },
            { title: t('agents.lastHeartbeat'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
            { title: t('agents.policyRevision'), dataIndex: 'policyRevision', align: 'right' },
            {
              title: t('agents.workloads'),
              dataIndex: 'workloads',
              align: 'right',
              render: (n: number, a) => (
                <span>
                  {n}
                  {a.status?.protectedWorkloads ? <Typography.Text type="secondary"> ({t('agents.protected', { n: a.status.protectedWorkloads })})</Typography.Text> : null}
                </span>
              ),
            },
            {
              title: t('agents.dataPlane'),
              key: 'dp',
              render: (_, a) =>
                a.status ? (
                  <Space direction="vertical" size={0}>
                    <Badge status={a.status.dataPlane.running ? 'success' : 'error'} text={a.status.dataPlane.running ? t('agents.dpRunning') : t('agents.dpStopped')} />
                    {a.status.dataPlane.restarts > 0 ? <Typography.Text type="warning">{t('agents.restarts', { n: a.status.dataPlane.restarts })}</Typography.Text> : null}
                  </Space>
                ) : (
                  <Typography.Text type="secondary">{t('agents.dpUnknown')}</Typography.Text>
                ),
            },
            {
              title: t('agents.drops'),
              key: 'drops',
              align: 'right',
              render: (_, a) => (a.status ? <Typography.Text type={a.status.dataPlane.drops > 0 ? 'warning' : undefined}>{a.status.dataPlane.drops.toLocaleString()}</Typography.Text> : '–'),
            },
            { title: t('agents.packets'), key: 'packets', align: 'right', render: (_, a) => (a.status ? a.status.dataPlane.packets.toLocaleString() : '–') },
            {
              title: t('agents.problems'),
              key: 'problems',
              render: (_, a) => (a.status?.problems.length ? a.status.problems.map((p) => <Tag key={p} color="red">{p}</Tag>) : null),
            },
          ]}
        />
      )}
    </Space>
  );
}
