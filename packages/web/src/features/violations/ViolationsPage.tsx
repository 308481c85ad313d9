/** The violation log: filters, a details drawer and CSV export of everything the filter matches. */
import { Descriptions, Typography } from 'antd';
import { useT } from '../../app/i18n/I18nProvider';
import { Endpoint } from '../../components/Endpoint';
import { ListPage, type FilterField } from '../../components/ListPage';
import { ActionTag } from '../../components/tags';
import { formatTime, portName } from '../../lib/format';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listViolations } from './api';
import type { Violation, ViolationAction, ViolationFilters } from './types';

const ACTIONS: ViolationAction[] = ['deny', 'violate'];

export function ViolationsPage() {
  const t = useT();
  const names = useWorkloadNames();
  const ruleText = (id: number) => (id === 0 ? t('field.implicitDeny') : `#${id}`);
  const filters: FilterField<ViolationFilters>[] = [
    { name: 'workload', label: 'violations.workload', tooltip: 'connections.endpointHelp', input: 'text', width: 150 },
    { name: 'from', label: 'connections.from', input: 'text', width: 150 },
    { name: 'to', label: 'connections.to', input: 'text', width: 150 },
    { name: 'action', label: 'field.action', input: 'select', width: 120, options: ACTIONS.map((a) => ({ value: a, label: t(`action.${a}`) })) },
    { name: 'rule', label: 'field.rule', input: 'number', min: 0, width: 90 },
  ];
  return (
    <ListPage<Violation, ViolationFilters>
      title="violations.title"
      filters={filters}
      defaultWindow="24h"
      list={listViolations}
      rowKey="id"
      events={['violations']}
      live="first-page"
      columns={[
        { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
        { title: t('field.action'), dataIndex: 'action', render: (a: ViolationAction) => <ActionTag action={a} /> },
        { title: t('field.client'), key: 'client', render: (_, v) => <Endpoint workload={v.clientWorkload} ip={v.clientIp} names={names} /> },
        { title: t('field.server'), key: 'server', render: (_, v) => <Endpoint workload={v.serverWorkload} ip={v.serverIp} names={names} /> },
        { title: t('field.port'), key: 'port', render: (_, v) => <Typography.Text code>{portName(v.proto, v.serverPort)}</Typography.Text> },
        { title: t('field.app'), dataIndex: 'app' },
        { title: t('field.rule'), dataIndex: 'ruleId', render: ruleText },
        { title: t('field.count'), dataIndex: 'count', align: 'right' },
      ]}
      details={{
        title: (v) => t('violations.detail', { id: v.id }),
        render: (v) => (
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('field.action')}>
              <ActionTag action={v.action} />
            </Descriptions.Item>
            <Descriptions.Item label={t('field.client')}>
              <Endpoint workload={v.clientWorkload} ip={v.clientIp} names={names} /> ({v.clientIp})
            </Descriptions.Item>
            <Descriptions.Item label={t('field.server')}>
              <Endpoint workload={v.serverWorkload} ip={v.serverIp} names={names} /> ({v.serverIp})
            </Descriptions.Item>
            <Descriptions.Item label={t('field.port')}>{portName(v.proto, v.serverPort)}</Descriptions.Item>
            <Descriptions.Item label={t('field.app')}>{v.app}</Descriptions.Item>
            <Descriptions.Item label={t('field.rule')}>{ruleText(v.ruleId)}</Descriptions.Item>
            <Descriptions.Item label={t('field.enforcedBy')}>{v.enforcedBy}</Descriptions.Item>
            <Descriptions.Item label={t('field.reportedBy')}>{v.reportedBy}</Descriptions.Item>
            <Descriptions.Item label={t('field.count')}>{v.count}</Descriptions.Item>
            <Descriptions.Item label={t('field.firstSeen')}>{formatTime(v.firstSeen)}</Descriptions.Item>
            <Descriptions.Item label={t('field.lastSeen')}>{formatTime(v.lastSeen)}</Descriptions.Item>
          </Descriptions>
        ),
      }}
      csv={{
        file: 'violations.file',
        columns: [
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
        ],
      }}
    />
  );
}
