/**
 * Conversations in a time window, filtered by either end, application, port and verdict. While
 * live updates are on, new connection data from the event stream reloads the current page (at
 * most every 2 s) without reloading the browser page.
 */
import { Typography } from 'antd';
import { useT } from '../../app/i18n/I18nProvider';
import { Endpoint } from '../../components/Endpoint';
import { ListPage, type FilterField } from '../../components/ListPage';
import { VerdictTag } from '../../components/tags';
import { formatBytes, formatTime, portName } from '../../lib/format';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listConnections } from './api';
import { VERDICTS, type ConnectionFilters, type Conversation, type Verdict } from './types';

function rowKey(c: Conversation): string {
  return [c.clientWorkload, c.clientIp, c.serverWorkload, c.serverIp, c.proto, c.serverPort, c.app, c.verdict, c.ruleId].join(' ');
}

export function ConnectionsPage() {
  const t = useT();
  const names = useWorkloadNames();
  const filters: FilterField<ConnectionFilters>[] = [
    { name: 'from', label: 'connections.from', tooltip: 'connections.endpointHelp', input: 'text', width: 160 },
    { name: 'to', label: 'connections.to', tooltip: 'connections.endpointHelp', input: 'text', width: 160 },
    { name: 'app', label: 'field.app', input: 'text', width: 120 },
    { name: 'port', label: 'field.port', input: 'number', width: 100, rules: [{ type: 'integer', min: 0, max: 65535, message: t('connections.badPort') }] },
    { name: 'verdict', label: 'field.verdict', input: 'select', width: 120, options: VERDICTS.map((v) => ({ value: v, label: t(`verdict.${v}`) })) },
  ];
  return (
    <ListPage<Conversation, ConnectionFilters>
      title="connections.title"
      filters={filters}
      defaultWindow="1h"
      list={listConnections}
      rowKey={rowKey}
      events={['connections']}
      live="switch"
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
  );
}
