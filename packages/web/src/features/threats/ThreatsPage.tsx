/** The threat log: filters, a details drawer and CSV export of everything the filter matches. */
import { DownloadOutlined } from '@ant-design/icons';
import { App, Button, Descriptions, Drawer, Form, Input, InputNumber, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { SeverityTag } from '../../components/tags';
import { downloadText, fetchAll, toCsv } from '../../lib/csv';
import { useLiveEvents } from '../../lib/events';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { useUrlFilters } from '../../lib/useUrlFilters';
import { isWindowName, sinceOf, WINDOW_LABELS, WINDOWS, type WindowName } from '../../lib/window';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listThreats } from './api';
import { SEVERITIES, type Severity, type Threat, type ThreatFilters } from './types';

const FILTERS = ['workload', 'severity', 'minSeverity', 'threatId', 'window'] as const;

interface Values {
  workload?: string;
  severity?: Severity;
  minSeverity?: Severity;
  threatId?: number | null;
  window: WindowName;
}

export function ThreatsPage() {
  const t = useT();
  const { message } = App.useApp();
  const names = useWorkloadNames();
  const f = useUrlFilters(FILTERS, { window: '24h' });
  const window: WindowName = isWindowName(f.values.window ?? null) ? (f.values.window as WindowName) : '24h';
  const [open, setOpen] = useState<Threat | null>(null);
  const [exporting, setExporting] = useState(false);
  const filters = (): ThreatFilters => ({
    workload: f.values.workload,
    severity: f.values.severity as Severity | undefined,
    minSeverity: f.values.minSeverity as Severity | undefined,
    threatId: f.values.threatId === undefined ? undefined : Number(f.values.threatId),
    since: sinceOf(window),
  });
  const state = useApi((signal) => listThreats({ ...filters(), limit: f.size, offset: (f.page - 1) * f.size }, signal), [f.key]);
  const reload = useThrottled(state.reload, 2_000);
  useLiveEvents(['threats'], () => {
    if (f.page === 1) reload();
  });
  const severityOptions = SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }));

  const exportCsv = async () => {
    setExporting(true);
    try {
      const query = filters();
      const rows = await fetchAll((limit, offset) => listThreats({ ...query, limit, offset }));
      const csv = toCsv(rows, [
        { header: 'id', value: (r) => r.id },
        { header: 'threat_id', value: (r) => r.threatId },
        { header: 'name', value: (r) => r.name },
        { header: 'severity', value: (r) => r.severity },
        { header: 'workload', value: (r) => r.workloadId },
        { header: 'workload_name', value: (r) => names.get(r.workloadId) ?? '' },
        { header: 'client', value: (r) => r.client },
        { header: 'server', value: (r) => r.server },
        { header: 'proto', value: (r) => r.proto },
        { header: 'app', value: (r) => r.app },
        { header: 'detail', value: (r) => r.detail },
        { header: 'count', value: (r) => r.count },
        { header: 'first_seen', value: (r) => new Date(r.firstSeen).toISOString() },
        { header: 'last_seen', value: (r) => new Date(r.lastSeen).toISOString() },
      ]);
      downloadText(`mseg-${t('threats.file')}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`, csv);
    } catch (err) {
      void message.error(err instanceof Error ? err.message : String(err));
    } finally {
      setExporting(false);
    }
  };

  const workloadLink = (id: string) => (id ? <Link to={`/workloads/${encodeURIComponent(id)}`}>{names.get(id) ?? id}</Link> : '–');

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('threats.title')}</Typography.Title>
      <Form<Values>
        layout="inline"
        key={f.key}
        initialValues={{ ...f.values, threatId: f.values.threatId === undefined ? undefined : Number(f.values.threatId), window }}
        onFinish={(v) =>
          f.setFilters({
            workload: v.workload?.trim(),
            severity: v.severity,
            minSeverity: v.minSeverity,
            threatId: v.threatId === undefined || v.threatId === null ? undefined : String(v.threatId),
            window: v.window,
          })
        }
        style={{ rowGap: 8 }}
      >
        <Form.Item name="workload" label={t('threats.workload')}>
          <Input allowClear style={{ width: 160 }} />
        </Form.Item>
        <Form.Item name="severity" label={t('field.severity')}>
          <Select allowClear style={{ width: 120 }} options={severityOptions} />
        </Form.Item>
        <Form.Item name="minSeverity" label={t('threats.minSeverity')}>
          <Select allowClear style={{ width: 120 }} options={severityOptions} />
        </Form.Item>
        <Form.Item name="threatId" label={t('threats.threatId')}>
          <InputNumber min={1} style={{ width: 100 }} />
        </Form.Item>
        <Form.Item name="window" label={t('common.window')}>
          <Select style={{ width: 150 }} options={(Object.keys(WINDOWS) as WindowName[]).map((w) => ({ value: w, label: t(WINDOW_LABELS[w]) }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('common.search')}
        </Button>
        <Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void exportCsv()} style={{ marginLeft: 8 }}>
          {t('common.exportCsv')}
        </Button>
      </Form>
      {state.error ? (
        <ApiErrorState error={state.error} onRetry={state.reload} />
      ) : (
        <Table<Threat>
          rowKey="id"
          size="middle"
          loading={state.loading && !state.data}
          dataSource={state.data?.items}
          onRow={(r) => ({ onClick: () => setOpen(r), style: { cursor: 'pointer' } })}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[
            { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
            { title: t('field.severity'), dataIndex: 'severity', render: (s: Severity) => <SeverityTag severity={s} /> },
            { title: t('threats.name'), dataIndex: 'name' },
            { title: t('field.workload'), dataIndex: 'workloadId', render: (id: string) => workloadLink(id) },
            { title: t('field.client'), dataIndex: 'client' },
            { title: t('field.server'), dataIndex: 'server' },
            { title: t('field.app'), dataIndex: 'app' },
            { title: t('field.count'), dataIndex: 'count', align: 'right' },
            {
              title: '',
              key: 'details',
              render: (_, r) => (
                <Button type="link" onClick={(e) => (e.stopPropagation(), setOpen(r))}>
                  {t('common.details')}
                </Button>
              ),
            },
          ]}
        />
      )}
      <Drawer open={open !== null} onClose={() => setOpen(null)} title={open ? t('threats.detail', { id: open.id }) : ''} size={480}>
        {open ? (
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('threats.name')}>{open.name}</Descriptions.Item>
            <Descriptions.Item label={t('threats.threatId')}>{open.threatId}</Descriptions.Item>
            <Descriptions.Item label={t('field.severity')}>
              <SeverityTag severity={open.severity} />
            </Descriptions.Item>
            <Descriptions.Item label={t('field.workload')}>{workloadLink(open.workloadId)}</Descriptions.Item>
            <Descriptions.Item label={t('field.client')}>{open.client}</Descriptions.Item>
            <Descriptions.Item label={t('field.server')}>{open.server}</Descriptions.Item>
            <Descriptions.Item label={t('field.app')}>{open.app}</Descriptions.Item>
            <Descriptions.Item label={t('threats.detailText')}>
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{open.detail}</Typography.Paragraph>
            </Descriptions.Item>
            <Descriptions.Item label={t('field.count')}>{open.count}</Descriptions.Item>
            <Descriptions.Item label={t('field.firstSeen')}>{formatTime(open.firstSeen)}</Descriptions.Item>
            <Descriptions.Item label={t('field.lastSeen')}>{formatTime(open.lastSeen)}</Descriptions.Item>
          </Descriptions>
        ) : null}
      </Drawer>
    </Space>
  );
}
