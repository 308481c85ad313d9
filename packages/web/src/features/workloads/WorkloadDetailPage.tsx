/**
 * One workload: what the agent reports (interfaces, IPs, labels, image, service, mode), what it
 * serves by port, its conversations both ways and its traffic over the last hour.
 */
import { ArrowLeftOutlined } from '@ant-design/icons';
import { Alert, Card, Descriptions, Empty, Space, Table, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { AsyncContent } from '../../components/AsyncContent';
import { Endpoint } from '../../components/Endpoint';
import { ModeTag, VerdictTag, WorkloadStateBadge } from '../../components/tags';
import { TrafficChart } from '../../components/TrafficChart';
import { useLiveEvents } from '../../lib/events';
import { DAY, formatBytes, formatTime, HOUR, portName } from '../../lib/format';
import { MAX_LIMIT } from '../../lib/page';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import type { Conversation } from '../connections/types';
import { getWorkload, workloadConversations, workloadTraffic } from './api';
import { useWorkloadNames } from './useWorkloadNames';
import { appsByPort, type ServedApp } from './utils';

const TRAFFIC_BUCKETS = 6;

interface Row extends Conversation {
  direction: 'in' | 'out';
}

export function WorkloadDetailPage() {
  const t = useT();
  const id = useParams().id ?? '';
  const names = useWorkloadNames();
  const workload = useApi((s) => getWorkload(id, s), [id]);
  const convs = useApi((s) => workloadConversations(id, Date.now() - DAY, s), [id]);
  const traffic = useApi((s) => {
    const now = Date.now();
    return workloadTraffic(id, now - HOUR, now, TRAFFIC_BUCKETS, s);
  }, [id]);
  const reload = useThrottled(() => {
    workload.reload();
    convs.reload();
    traffic.reload();
  }, 10_000);
  useLiveEvents(['connections', 'workloads', 'policy'], reload);

  const rows = useMemo<Row[]>(
    () => (convs.data ? [...convs.data.inbound.map((c) => ({ ...c, direction: 'in' as const })), ...convs.data.outbound.map((c) => ({ ...c, direction: 'out' as const }))] : []),
    [convs.data],
  );

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Link to="/workloads">
        <ArrowLeftOutlined /> {t('workloads.back')}
      </Link>
      <AsyncContent state={workload}>
        {(w) => (
          <Card title={<Typography.Title level={2} style={{ margin: 0 }}>{w.name}</Typography.Title>}>
            <Descriptions column={{ xs: 1, md: 2, xl: 3 }} size="small">
              <Descriptions.Item label={t('workloads.id')}>
                <Typography.Text copyable>{w.id}</Typography.Text>
              </Descriptions.Item>
              <Descriptions.Item label={t('workloads.host')}>{w.host}</Descriptions.Item>
              <Descriptions.Item label={t('workloads.service')}>{w.service}</Descriptions.Item>
              <Descriptions.Item label={t('workloads.image')}>{w.image}</Descriptions.Item>
              <Descriptions.Item label={t('workloads.state')}>
                <WorkloadStateBadge state={w.state} />
              </Descriptions.Item>
              <Descriptions.Item label={t('workloads.mode')}>
                <ModeTag mode={w.mode} />
              </Descriptions.Item>
              {w.reason ? <Descriptions.Item label={t('workloads.reason')}>{w.reason}</Descriptions.Item> : null}
              <Descriptions.Item label={t('workloads.created')}>{formatTime(w.createdAt)}</Descriptions.Item>
              <Descriptions.Item label={t('workloads.updated')}>{formatTime(w.updatedAt)}</Descriptions.Item>
              <Descriptions.Item label={t('workloads.labels')} span={3}>
                {Object.keys(w.labels).length === 0
                  ? t('workloads.noLabels')
                  : Object.entries(w.labels).map(([k, v]) => (
                      <Tag key={k}>
                        {k}={v}
                      </Tag>
                    ))}
              </Descriptions.Item>
            </Descriptions>
            <Table
              style={{ marginTop: 16 }}
              size="small"
              pagination={false}
              rowKey="name"
              dataSource={w.interfaces}
              title={() => t('workloads.interfaces')}
              columns={[
                { title: t('workloads.interface'), dataIndex: 'name' },
                { title: t('workloads.mac'), dataIndex: 'mac' },
                { title: t('workloads.ips'), dataIndex: 'ips', render: (ips: string[]) => ips.map((ip) => <Tag key={ip}>{ip}</Tag>) },
              ]}
            />
          </Card>
        )}
      </AsyncContent>

      <Card title={t('workloads.traffic')}>
        <AsyncContent state={traffic}>
          {(points) => (
            <TrafficChart
              label={t('workloads.traffic')}
              format={formatBytes}
              series={[
                { name: t('workloads.in'), color: '#1677ff', points: points.map((p) => ({ t: p.t, v: p.inBytes })) },
                { name: t('workloads.out'), color: '#52c41a', points: points.map((p) => ({ t: p.t, v: p.outBytes })) },
              ]}
            />
          )}
        </AsyncContent>
      </Card>

      <AsyncContent state={convs}>
        {(c) => (
          <>
            {c.truncated ? <Alert type="info" showIcon title={t('workloads.truncated', { n: MAX_LIMIT })} /> : null}
            <Card title={t('workloads.appsByPort')}>
              <Table<ServedApp>
                size="small"
                rowKey={(a) => `${a.port} ${a.app}`}
                pagination={false}
                dataSource={appsByPort(c.inbound)}
                locale={{ emptyText: <Empty description={t('dashboard.noData')} /> }}
                columns={[
                  { title: t('field.port'), dataIndex: 'port', render: (p: string) => <Typography.Text code>{p}</Typography.Text> },
                  { title: t('field.app'), dataIndex: 'app' },
                  { title: t('workloads.clients'), dataIndex: 'clients', align: 'right' },
                  { title: t('common.sessions'), dataIndex: 'sessions', align: 'right' },
                  { title: t('common.bytes'), dataIndex: 'bytes', align: 'right', render: (b: number) => formatBytes(b) },
                  { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
                ]}
              />
            </Card>
            <Card title={t('workloads.conversations')}>
              <Table<Row>
                size="small"
                rowKey={(r) => `${r.direction} ${r.clientWorkload} ${r.clientIp} ${r.serverWorkload} ${r.serverIp} ${r.proto} ${r.serverPort} ${r.app} ${r.verdict} ${r.ruleId}`}
                dataSource={rows}
                pagination={{ pageSize: 20 }}
                locale={{ emptyText: <Empty description={t('dashboard.noData')} /> }}
                columns={[
                  { title: t('workloads.direction'), dataIndex: 'direction', render: (d: Row['direction']) => (d === 'in' ? t('workloads.asServer') : t('workloads.asClient')) },
                  {
                    title: t('workloads.peer'),
                    key: 'peer',
                    render: (_, r) => (r.direction === 'in' ? <Endpoint workload={r.clientWorkload} ip={r.clientIp} names={names} /> : <Endpoint workload={r.serverWorkload} ip={r.serverIp} names={names} />),
                  },
                  { title: t('field.port'), key: 'port', render: (_, r) => <Typography.Text code>{portName(r.proto, r.serverPort)}</Typography.Text> },
                  { title: t('field.app'), dataIndex: 'app' },
                  { title: t('field.verdict'), dataIndex: 'verdict', render: (_, r) => <VerdictTag verdict={r.verdict} /> },
                  { title: t('common.sessions'), dataIndex: 'sessions', align: 'right' },
                  { title: t('common.bytes'), dataIndex: 'bytes', align: 'right', render: (b: number) => formatBytes(b) },
                  { title: t('field.lastSeen'), dataIndex: 'lastSeen', render: (ms: number) => formatTime(ms) },
                ]}
              />
            </Card>
          </>
        )}
      </AsyncContent>
    </Space>
  );
}
