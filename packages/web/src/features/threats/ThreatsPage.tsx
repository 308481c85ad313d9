/** The threat log: filters, a details drawer and CSV export of everything the filter matches. */
import { Descriptions, Typography } from 'antd';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { ListPage, type FilterField } from '../../components/ListPage';
import { SeverityTag } from '../../components/tags';
import { formatTime } from '../../lib/format';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { listThreats } from './api';
import { SEVERITIES, type Severity, type Threat, type ThreatFilters } from './types';

export function ThreatsPage() {
  const t = useT();
  const names = useWorkloadNames();
  const severityOptions = SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }));
  const filters: FilterField<ThreatFilters>[] = [
    { name: 'workload', label: 'threats.workload', input: 'text', width: 160 },
    { name: 'severity', label: 'field.severity', input: 'select', width: 120, options: severityOptions },
    { name: 'minSeverity', label: 'threats.minSeverity', input: 'select', width: 120, options: severityOptions },
    { name: 'threatId', label: 'threats.threatId', input: 'number', min: 1, width: 100 },
  ];
  const workloadLink = (id: string) => (id ? <Link to={`/workloads/${encodeURIComponent(id)}`}>{names.get(id) ?? id}</Link> : '–');
  return (
    <ListPage<Threat, ThreatFilters>
      title="threats.title"
      filters={filters}
      defaultWindow="24h"
      list={listThreats}
      rowKey="id"
      events={['threats']}
      live="first-page"
      columns={[
        { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
        { title: t('field.severity'), dataIndex: 'severity', render: (s: Severity) => <SeverityTag severity={s} /> },
        { title: t('threats.name'), dataIndex: 'name' },
        { title: t('field.workload'), dataIndex: 'workloadId', render: (id: string) => workloadLink(id) },
        { title: t('field.client'), dataIndex: 'client' },
        { title: t('field.server'), dataIndex: 'server' },
        { title: t('field.app'), dataIndex: 'app' },
        { title: t('field.count'), dataIndex: 'count', align: 'right' },
      ]}
      details={{
        title: (r) => t('threats.detail', { id: r.id }),
        render: (r) => (
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('threats.name')}>{r.name}</Descriptions.Item>
            <Descriptions.Item label={t('threats.threatId')}>{r.threatId}</Descriptions.Item>
            <Descriptions.Item label={t('field.severity')}>
              <SeverityTag severity={r.severity} />
            </Descriptions.Item>
            <Descriptions.Item label={t('field.workload')}>{workloadLink(r.workloadId)}</Descriptions.Item>
            <Descriptions.Item label={t('field.client')}>{r.client}</Descriptions.Item>
            <Descriptions.Item label={t('field.server')}>{r.server}</Descriptions.Item>
            <Descriptions.Item label={t('field.app')}>{r.app}</Descriptions.Item>
            <Descriptions.Item label={t('threats.detailText')}>
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{r.detail}</Typography.Paragraph>
            </Descriptions.Item>
            <Descriptions.Item label={t('field.count')}>{r.count}</Descriptions.Item>
            <Descriptions.Item label={t('field.firstSeen')}>{formatTime(r.firstSeen)}</Descriptions.Item>
            <Descriptions.Item label={t('field.lastSeen')}>{formatTime(r.lastSeen)}</Descriptions.Item>
          </Descriptions>
        ),
      }}
      csv={{
        file: 'threats.file',
        columns: [
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
        ],
      }}
    />
  );
}
