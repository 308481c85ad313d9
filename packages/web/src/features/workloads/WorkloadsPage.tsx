/** All workloads, filterable by name, image, host, service, group, mode and state. */
import { Tag } from 'antd';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { ListPage, type FilterField } from '../../components/ListPage';
import { ModeTag, WorkloadStateBadge } from '../../components/tags';
import { listWorkloads } from './api';
import type { Mode, Workload, WorkloadFilters, WorkloadState } from './types';

const MODES: Mode[] = ['monitor', 'protect'];
const STATES: WorkloadState[] = ['running', 'stopped', 'unmonitored'];

export function WorkloadsPage() {
  const t = useT();
  const filters: FilterField<WorkloadFilters>[] = [
    { name: 'name', label: 'workloads.name', input: 'text', width: 160 },
    { name: 'image', label: 'workloads.image', input: 'text', width: 160 },
    { name: 'host', label: 'workloads.host', input: 'text', width: 140 },
    { name: 'service', label: 'workloads.service', input: 'text', width: 140 },
    { name: 'group', label: 'workloads.group', input: 'text', width: 140 },
    { name: 'mode', label: 'workloads.mode', input: 'select', width: 120, options: MODES.map((m) => ({ value: m, label: t(`mode.${m}`) })) },
    { name: 'state', label: 'workloads.state', input: 'select', width: 140, options: STATES.map((s) => ({ value: s, label: t(`workloadState.${s}`) })) },
  ];
  return (
    <ListPage<Workload, WorkloadFilters>
      title="workloads.title"
      filters={filters}
      list={listWorkloads}
      rowKey="id"
      events={['workloads', 'policy']}
      live="always"
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
  );
}
