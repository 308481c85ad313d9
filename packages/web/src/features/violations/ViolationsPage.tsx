/** The violation log: filters, a details drawer and CSV export of everything the filter matches. */
import { DownloadOutlined } from '@ant-design/icons';
import { App, Button, Descriptions, Drawer, Form, Input, InputNumber, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { Endpoint } from '../../components/Endpoint';
import { ActionTag } from '../../components/tags';
import { downloadText, fetchAll, toCsv } from '../../lib/csv';
import { useLiveEvents } from '../../lib/events';
import { formatTime, portName } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { useUrlFilters } from '../../lib/useUrlFilters';
import { isWindowName, sinceOf, WINDOW_LABELS, WINDOWS, type WindowName } from '../../lib/window';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listViolations } from './api';
import type { Violation, ViolationAction, ViolationFilters } from './types';

const FILTERS = ['workload', 'from', 'to', 'action', 'rule', 'window'] as const;
const ACTIONS: ViolationAction[] = ['deny', 'violate'];

interface Values {
  workload?: string;
  from?: string;
  to?: string;
  action?: ViolationAction;
  rule?: number | null;
  window: WindowName;
}

export function ViolationsPage() {
  const t = useT();
  const { message } = App.useApp();
  const names = useWorkloadNames();
  const f = useUrlFilters(FILTERS, { window: '24h' });
  const window: WindowName = isWindowName(f.values.window ?? null) ? (f.values.window as WindowName) : '24h';
  const [open, setOpen] = useState<Violation | null>(null);
  const [exporting, setExporting] = useState(false);
  const filters = (): ViolationFilters => ({
    workload: f.values.workload,
    from: f.values.from,
    to: f.values.to,
    action: f.values.action as ViolationAction | undefined,
    rule: f.values.rule === undefined ? undefined : Number(f.values.rule),
    since: sinceOf(window),
  });
  const state = useApi((signal) => listViolations({ ...filters(), limit: f.size, offset: (f.page - 1) * f.size }, signal), [f.key]);
  const reload = useThrottled(state.reload, 2_000);
  useLiveEvents(['violations'], () => {
    if (f.page === 1) reload();
  });

  const exportCsv = async () => {
    setExporting(true);
    try {
      const query = filters();
      const rows = await fetchAll((limit, offset) => listViolations({ ...query, limit, offset }));
      const csv = toCsv(rows, [
        { header: 'id', value: (v) => v.id },
        { header: 'action', value: (v) => v.action },
        { header: 'client_workload', value: (v) => v.clientWorkload },
        { header: 'client_name', value: (v) => names.get(v.clientWorkload) ?? '' },
        { header: 'client_ip', value: (v) => v.clientIp },
        { header: 'server_workload', value: (v) => v.serverWorkload },
        { header: 'server_name', value: (v) => names.get(v.serverWorkload) ?? '' },
        { header: 'server_ip', value: (v) => v.serverIp },
        { header: 'port', value: (v) => portName(v.proto, v.serverPort) },
        { header: 'app', value: (v) => v.app },
        { header: 'rule_id', value: (v) => v.ruleId },
        { header: 'enforced_by', value: (v) => v.enforcedBy },
        { header: 'reported_by', value: (v) => v.reportedBy },
        { header: 'count', value: (v) => v.count },
        { header: 'first_seen', value: (v) => new Date(v.firstSeen).toISOString() },
        { header: 'last_seen', value: (v) => new Date(v.lastSeen).toISOString() },
      ]);
      downloadText(`mseg-${t('violations.file')}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`, csv);
    } catch (err) {
      void message.error(err instanceof Error ? err.message : String(err));
    } finally {
      setExporting(false);
    }
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('violations.title')}</Typography.Title>
      <Form<Values>
        layout="inline"
        key={f.key}
        initialValues={{ ...f.values, rule: f.values.rule === undefined ? undefined : Number(f.values.rule), window }}
        onFinish={(v) =>
          f.setFilters({
            workload: v.workload?.trim(),
            from: v.from?.trim(),
            to: v.to?.trim(),
            action: v.action,
            rule: v.rule === undefined || v.rule === null ? undefined : String(v.rule),
            window: v.window,
          })
        }
        style={{ rowGap: 8 }}
      >
        <Form.Item name="workload" label={t('violations.workload')} tooltip={t('connections.endpointHelp')}>
          <Input allowClear style={{ width: 150 }} />
        </Form.Item>
        <Form.Item name="from" label={t('connections.from')}>
          <Input allowClear style={{ width: 150 }} />
        </Form.Item>
        <Form.Item name="to" label={t('connections.to')}>
          <Input allowClear style={{ width: 150 }} />
        </Form.Item>
        <Form.Item name="action" label={t('field.action')}>
          <Select allowClear style={{ width: 120 }} options={ACTIONS.map((a) => ({ value: a, label: t(`action.${a}`) }))} />
        </Form.Item>
        <Form.Item name="rule" label={t('field.rule')}>
          <InputNumber min={0} style={{ width: 90 }} />
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
        <Table<Violation>
          rowKey="id"
          size="middle"
          loading={state.loading && !state.data}
          dataSource={state.data?.items}
          onRow={(v) => ({ onClick: () => setOpen(v), style: { cursor: 'pointer' } })}
          pagination={{ current: f.page, pageSize: f.size, total: state.data?.total, onChange: f.setPage, showTotal: (total) => t('common.total', { total }) }}
          columns={[
            { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
            { title: t('field.action'), dataIndex: 'action', render: (a: ViolationAction) => <ActionTag action={a} /> },
            { title: t('field.client'), key: 'client', render: (_, v) => <Endpoint workload={v.clientWorkload} ip={v.clientIp} names={names} /> },
            { title: t('field.server'), key: 'server', render: (_, v) => <Endpoint workload={v.serverWorkload} ip={v.serverIp} names={names} /> },
            { title: t('field.port'), key: 'port', render: (_, v) => <Typography.Text code>{portName(v.proto, v.serverPort)}</Typography.Text> },
            { title: t('field.app'), dataIndex: 'app' },
            { title: t('field.rule'), dataIndex: 'ruleId', render: (id: number) => (id === 0 ? t('field.implicitDeny') : `#${id}`) },
            { title: t('field.count'), dataIndex: 'count', align: 'right' },
            {
              title: '',
              key: 'details',
              render: (_, v) => (
                <Button type="link" onClick={(e) => (e.stopPropagation(), setOpen(v))}>
                  {t('common.details')}
                </Button>
              ),
            },
          ]}
        />
      )}
      <Drawer open={open !== null} onClose={() => setOpen(null)} title={open ? t('violations.detail', { id: open.id }) : ''} size={480}>
        {open ? (
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('field.action')}>
              <ActionTag action={open.action} />
            </Descriptions.Item>
            <Descriptions.Item label={t('field.client')}>
              <Endpoint workload={open.clientWorkload} ip={open.clientIp} names={names} /> ({open.clientIp})
            </Descriptions.Item>
            <Descriptions.Item label={t('field.server')}>
              <Endpoint workload={open.serverWorkload} ip={open.serverIp} names={names} /> ({open.serverIp})
            </Descriptions.Item>
            <Descriptions.Item label={t('field.port')}>{portName(open.proto, open.serverPort)}</Descriptions.Item>
            <Descriptions.Item label={t('field.app')}>{open.app}</Descriptions.Item>
            <Descriptions.Item label={t('field.rule')}>{open.ruleId === 0 ? t('field.implicitDeny') : `#${open.ruleId}`}</Descriptions.Item>
            <Descriptions.Item label={t('field.enforcedBy')}>{open.enforcedBy}</Descriptions.Item>
            <Descriptions.Item label={t('field.reportedBy')}>{open.reportedBy}</Descriptions.Item>
            <Descriptions.Item label={t('field.count')}>{open.count}</Descriptions.Item>
            <Descriptions.Item label={t('field.firstSeen')}>{formatTime(open.firstSeen)}</Descriptions.Item>
            <Descriptions.Item label={t('field.lastSeen')}>{formatTime(open.lastSeen)}</Descriptions.Item>
          </Descriptions>
        ) : null}
      </Drawer>
    </Space>
  );
}
