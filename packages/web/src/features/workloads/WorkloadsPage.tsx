/** All workloads, filterable by name, image, host, service, group, mode and state. */
import { Button, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { ModeTag, WorkloadStateBadge } from '../../components/tags';
import { useLiveEvents } from '../../lib/events';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { useUrlFilters } from '../../lib/useUrlFilters';
import { listWorkloads } from './api';
import type { Mode, Workload, WorkloadFilters, WorkloadState } from './types';

const FILTERS = ['name', 'image', 'host', 'service', 'group', 'mode', 'state'] as const;
const MODES: Mode[] = ['monitor', 'protect'];
const STATES: WorkloadState[] = ['running', 'stopped', 'unmonitored'];

type Values = Partial<Record<(typeof FILTERS)[number], string>>;

export function WorkloadsPage() {
  const t = useT();
  const f = useUrlFilters(FILTERS);
  const state = useApi(
    (signal) => listWorkloads({ ...(f.values as WorkloadFilters), limit: f.size, offset: (f.page - 1) * f.size }, signal),
    [f.key],
  );
  const reload = useThrottled(state.reload, 2_000);
  useLiveEvents(['workloads', 'policy'], reload);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('workloads.title')}</Typography.Title>
      <Form
        layout="inline"
        key={f.key}
        initialValues={f.values}
        onFinish={(v: Values) => f.setFilters(Object.fromEntries(FILTERS.map((k) => [k, v[k]?.trim()])))}
        style={{ rowGap: 8 }}
      >
        <Form.Item name="name" label={t('workloads.name')}>
          <Input allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="image" label={t('workloads.image')}>
          <Input allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="host" label={t('workloads.host')}>
          <Input allowClear style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="service" label={t('workloads.service')}>
          <Input allowClear style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="group" label={t('workloads.group')}>
          <Input allowClear style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="mode" label={t('workloads.mode')}>
          <Select allowClear style={{ width: 120 }} options={MODES.map((m) => ({ value: m, label: t(`mode.${m}`) }))} />
        </Form.Item>
        <Form.Item name="state" label={t('workloads.state')}>
          <Select allowClear style={{ width: 140 }} options={STATES.map((s) => ({ value: s, label: t(`workloadState.${s}`) }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('common.search')}
        </Button>
      </Form>
      {state.error ? (
        <ApiErrorState error={state.error} onRetry={state.reload} />
      ) : (
        <Table<Workload>
          rowKey="id"
          size="middle"
          loading={state.loading}
          dataSource={state.data?.items}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[
            { title: t('workloads.name'), dataIndex: 'name', render: (name: string, w) => <Link to={`/workloads/${encodeURIComponent(w.id)}`}>{name}</Link> },
            { title: t('workloads.host'), dataIndex: 'host' },
            { title: t('workloads.service'), dataIndex: 'service' },
            { title: t('workloads.image'), dataIndex: 'image', ellipsis: true },
            { title: t('workloads.ips'), key: 'ips', render: (_, w) => w.interfaces.flatMap((i) => i.ips).map((ip) => <Tag key={ip}>{ip}</Tag>) },
            { title: t('workloads.state'), dataIndex: 'state', render: (s: WorkloadState) => <WorkloadStateBadge state={s} /> },
            { title: t('workloads.mode'), dataIndex: 'mode', render: (m: Mode) => <ModeTag mode={m} /> },
          ]}
        />
      )}
    </Space>
  );
}
