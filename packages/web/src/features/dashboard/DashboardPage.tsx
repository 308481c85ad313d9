/**
 * The overview: counts, traffic, violations and threats, busiest applications, agent health.
 * Each panel loads on its own, so one failing request shows an error with retry in its panel
 * while the others still show their data. New data from the live stream reloads the panels at
 * most every 10 s.
 */
import { Card, Col, Empty, List, Row, Space, Statistic, Table, Typography } from 'antd';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { AsyncContent } from '../../components/AsyncContent';
import { Endpoint } from '../../components/Endpoint';
import { ActionTag, AgentStateBadge, SeverityTag } from '../../components/tags';
import { TrafficChart } from '../../components/TrafficChart';
import { useLiveEvents } from '../../lib/events';
import { DAY, formatBytes, formatTime, HOUR, portName } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { useThrottled } from '../../lib/useThrottled';
import { listAgents } from '../agents/api';
import { listThreats } from '../threats/api';
import { SEVERITIES } from '../threats/types';
import { listViolations } from '../violations/api';
import { useWorkloadNames } from '../workloads/useWorkloadNames';
import { getStats, getSummary, threatsBySeverity, topApps, trafficSeries, violationsByAction } from './api';
import type { AppUsage } from './types';

const LIVE_RELOAD_MS = 10_000;
const TRAFFIC_BUCKETS = 12;
const TOP = 5;

export function DashboardPage() {
  const t = useT();
  const names = useWorkloadNames();
  const summary = useApi((s) => getSummary(s), []);
  const stats = useApi((s) => getStats(s), []);
  const traffic = useApi((s) => {
    const now = Date.now();
    return trafficSeries(now - HOUR, now, TRAFFIC_BUCKETS, s);
  }, []);
  const byAction = useApi((s) => violationsByAction(Date.now() - DAY, s), []);
  const bySeverity = useApi((s) => threatsBySeverity(Date.now() - DAY, s), []);
  const apps = useApi((s) => topApps(Date.now() - HOUR, s), []);
  const violations = useApi((s) => listViolations({ limit: TOP, offset: 0 }, s), []);
  const threats = useApi((s) => listThreats({ limit: TOP, offset: 0 }, s), []);
  const agents = useApi((s) => listAgents({ limit: 100, offset: 0 }, s), []);

  const reloadAll = useThrottled(() => {
    for (const state of [summary, stats, traffic, byAction, bySeverity, apps, violations, threats, agents]) state.reload();
  }, LIVE_RELOAD_MS);
  useLiveEvents(['connections', 'violations', 'threats', 'agents', 'workloads', 'policy'], reloadAll);

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Typography.Title level={2}>{t('dashboard.title')}</Typography.Title>
      <AsyncContent state={summary}>
        {(s) => (
          <Row gutter={[16, 16]}>
            <Col xs={12} md={6} xl={3}>
              <Card><Statistic title={t('dashboard.agents')} value={s.agents.online} suffix={`/ ${s.agents.total}`} /></Card>
            </Col>
            <Col xs={12} md={6} xl={3}>
              <Card><Statistic title={t('dashboard.workloads')} value={s.workloads.running} suffix={`/ ${s.workloads.total}`} /></Card>
            </Col>
            <Col xs={12} md={6} xl={3}>
              <Card><Statistic title={t('dashboard.groups')} value={s.groups} /></Card>
            </Col>
            <Col xs={12} md={6} xl={3}>
              <Card><Statistic title={t('dashboard.rules')} value={s.rules} /></Card>
            </Col>
            <Col xs={12} md={8} xl={4}>
              <Card><Statistic title={t('dashboard.connections5m')} value={s.connections5m} /></Card>
            </Col>
            <Col xs={12} md={8} xl={4}>
              <Card><Statistic title={t('dashboard.violations24h')} value={s.violations24h} valueStyle={s.violations24h ? { color: '#d4380d' } : undefined} /></Card>
            </Col>
            <Col xs={12} md={8} xl={4}>
              <Card><Statistic title={t('dashboard.threats24h')} value={s.threats24h} valueStyle={s.threats24h ? { color: '#c41d7f' } : undefined} /></Card>
            </Col>
          </Row>
        )}
      </AsyncContent>

      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          <Card title={t('dashboard.traffic')}>
            <AsyncContent state={traffic}>
              {(points) => (
                <TrafficChart
                  label={t('dashboard.traffic')}
                  format={formatBytes}
                  series={[{ name: t('common.bytes'), color: '#1677ff', points: points.map((p) => ({ t: p.t, v: p.bytes })) }]}
                />
              )}
            </AsyncContent>
            <AsyncContent state={stats}>
              {(s) => (
                <Typography.Text type="secondary">
                  {t('dashboard.throughput', { bytes: formatBytes(s.system['60s'].bytesPerSecond), sessions: s.system['60s'].sessionsPerSecond.toFixed(1) })}
                </Typography.Text>
              )}
            </AsyncContent>
          </Card>
        </Col>
        <Col xs={24} xl={8}>
          <Space direction="vertical" size="middle" style={{ width: '100%' }}>
            <Card title={t('dashboard.violationsByAction')} size="small">
              <AsyncContent state={byAction}>
                {(counts) => (
                  <Row>
                    {(['deny', 'violate'] as const).map((a) => (
                      <Col span={12} key={a}>
                        <Statistic title={<ActionTag action={a} />} value={counts[a]} />
                      </Col>
                    ))}
                  </Row>
                )}
              </AsyncContent>
            </Card>
            <Card title={t('dashboard.threatsBySeverity')} size="small">
              <AsyncContent state={bySeverity}>
                {(counts) => (
                  <Row gutter={[8, 8]}>
                    {SEVERITIES.map((s) => (
                      <Col span={8} key={s}>
                        <Statistic title={<SeverityTag severity={s} />} value={counts[s]} />
                      </Col>
                    ))}
                  </Row>
                )}
              </AsyncContent>
            </Card>
          </Space>
        </Col>
      </Row>

      <AsyncContent state={apps}>
        {(top) => (
          <Row gutter={[16, 16]}>
            <Col xs={24} lg={12}>
              <TopAppsCard title={t('dashboard.topBySessions')} apps={top.apps} by="sessions" />
            </Col>
            <Col xs={24} lg={12}>
              <TopAppsCard title={t('dashboard.topByBytes')} apps={top.apps} by="bytes" />
            </Col>
            {top.total > top.counted ? (
              <Col span={24}>
                <Typography.Text type="secondary">{t('dashboard.partial', { counted: top.counted, total: top.total })}</Typography.Text>
              </Col>
            ) : null}
          </Row>
        )}
      </AsyncContent>

      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card title={t('dashboard.recentViolations')} extra={<Link to="/violations">{t('dashboard.viewAll')}</Link>}>
            <AsyncContent state={violations}>
              {(page) => (
                <List
                  dataSource={page.items}
                  locale={{ emptyText: <Empty description={t('dashboard.noData')} /> }}
                  renderItem={(v) => (
                    <List.Item key={v.id}>
                      <Space wrap>
                        <ActionTag action={v.action} />
                        <Endpoint workload={v.clientWorkload} ip={v.clientIp} names={names} />→
                        <Endpoint workload={v.serverWorkload} ip={v.serverIp} names={names} />
                        <Typography.Text code>{portName(v.proto, v.serverPort)}</Typography.Text>
                        <Typography.Text type="secondary">{formatTime(v.lastSeen)}</Typography.Text>
                      </Space>
                    </List.Item>
                  )}
                />
              )}
            </AsyncContent>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('dashboard.recentThreats')} extra={<Link to="/threats">{t('dashboard.viewAll')}</Link>}>
            <AsyncContent state={threats}>
              {(page) => (
                <List
                  dataSource={page.items}
                  locale={{ emptyText: <Empty description={t('dashboard.noData')} /> }}
                  renderItem={(th) => (
                    <List.Item key={th.id}>
                      <Space wrap>
                        <SeverityTag severity={th.severity} />
                        <span>{th.name}</span>
                        <Typography.Text type="secondary">
                          {th.client} → {th.server}
                        </Typography.Text>
                        <Typography.Text type="secondary">{formatTime(th.lastSeen)}</Typography.Text>
                      </Space>
                    </List.Item>
                  )}
                />
              )}
            </AsyncContent>
          </Card>
        </Col>
      </Row>

      <Card title={t('dashboard.agentHealth')} extra={<Link to="/agents">{t('dashboard.viewAll')}</Link>}>
        <AsyncContent state={agents}>
          {(page) => (
            <List
              grid={{ gutter: 16, xs: 1, md: 2, xl: 4 }}
              dataSource={page.items}
              locale={{ emptyText: <Empty description={t('dashboard.noData')} /> }}
              renderItem={(a) => (
                <List.Item key={a.id}>
                  <Space direction="vertical" size={0}>
                    <Typography.Text strong>{a.host}</Typography.Text>
                    <AgentStateBadge state={a.state} />
                    <Typography.Text type="secondary">
                      {t('field.lastSeen')}: {formatTime(a.lastSeen)}
                    </Typography.Text>
                  </Space>
                </List.Item>
              )}
            />
          )}
        </AsyncContent>
      </Card>
    </Space>
  );
}

function TopAppsCard({ title, apps, by }: { title: string; apps: AppUsage[]; by: 'sessions' | 'bytes' }) {
  const t = useT();
  const rows = useMemo(() => [...apps].sort((a, b) => b[by] - a[by]).slice(0, TOP), [apps, by]);
  return (
    <Card title={title} size="small">
      <Table<AppUsage>
        size="small"
        pagination={false}
        rowKey="app"
        dataSource={rows}
        locale={{ emptyText: t('dashboard.noData') }}
        columns={[
          { title: t('dashboard.app'), dataIndex: 'app' },
          { title: t('common.sessions'), dataIndex: 'sessions', align: 'right' },
          { title: t('common.bytes'), dataIndex: 'bytes', align: 'right', render: (b: number) => formatBytes(b) },
        ]}
      />
    </Card>
  );
}
