/** The agents: host, version, state, last heartbeat and what it said about the data plane. */
import { Badge, Space, Tag, Typography } from 'antd';
import { useT } from '../../app/i18n/I18nProvider';
import { ListPage, type FilterField } from '../../components/ListPage';
import { AgentStateBadge } from '../../components/tags';
import { formatTime } from '../../lib/format';
import { listAgents } from './api';
import type { Agent, AgentFilters, AgentState } from './types';

const STATES: AgentState[] = ['online', 'offline', 'revoked'];

export function AgentsPage() {
  const t = useT();
  const filters: FilterField<AgentFilters>[] = [
    { name: 'host', label: 'agents.host', placeholder: 'agents.filterHost', input: 'text' },
    { name: 'state', label: 'agents.state', input: 'select', width: 140, options: STATES.map((s) => ({ value: s, label: t(`agentState.${s}`) })) },
  ];
  return (
    <ListPage<Agent, AgentFilters>
      title="agents.title"
      filters={filters}
      list={listAgents}
      rowKey="id"
      // Heartbeats do not raise events; state changes (online, offline, revoked) and new workloads do.
      events={['agents', 'workloads']}
      live="always"
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
  );
}
