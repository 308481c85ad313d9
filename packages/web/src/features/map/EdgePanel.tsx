/** Details of one conversation on the map, with the rule that decides it now. */
import { Alert, Button, Descriptions, List, Space, Spin, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { useCanEdit } from '../../app/auth/AuthProvider';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiError } from '../../lib/api';
import { explainFlow } from './api';
import { formatBytes, formatTime } from '../../lib/format';
import { ruleGroupOf } from './utils';
import type { ViewEdge, ViewNode } from './model';
import { VERDICT_COLOURS } from './renderer';
import type { Explanation } from './types';

/** Explain only the first few ports of a conversation: enough to show the deciding rules. */
const EXPLAIN_PORTS = 4;

/** What explain takes for a map node: a workload id, a group name or an address. */
function explainRef(n: ViewNode): string {
  return n.kind === 'group' ? n.group : n.id;
}

export function EdgePanel({ edge }: { edge: ViewEdge }) {
  const t = useT();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [explained, setExplained] = useState<{ port: string; result: Explanation | ApiError }[] | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setExplained(null);
    const app = edge.apps.find((a) => a !== '' && a.toLowerCase() !== 'unknown');
    Promise.all(
      edge.ports.slice(0, EXPLAIN_PORTS).map((port) =>
        explainFlow(explainRef(edge.source), explainRef(edge.target), port, app, ctl.signal).then(
          (result) => ({ port, result }),
          (e: unknown) => ({ port, result: e instanceof ApiError ? e : new ApiError(0, 'MSEG_UI_NETWORK', String(e)) }),
        ),
      ),
    ).then((r) => {
      if (!ctl.signal.aborted) setExplained(r);
    });
    return () => ctl.abort();
  }, [edge]);

  const createRule = () => {
    const params = new URLSearchParams({
      new: '1',
      from: ruleGroupOf(edge.source),
      to: ruleGroupOf(edge.target),
      ports: edge.ports.join(','),
      apps: 'any',
      action: 'allow',
    });
    navigate(`/policies?${params}`);
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('map.edge.verdict')}>
          <Tag color={VERDICT_COLOURS[edge.verdict]}>{t(`map.verdict.${edge.verdict}`)}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('map.edge.ports')}>{edge.ports.join(', ')}</Descriptions.Item>
        <Descriptions.Item label={t('map.edge.apps')}>{edge.apps.map((a) => <Tag key={a}>{a || '—'}</Tag>)}</Descriptions.Item>
        <Descriptions.Item label={t('map.edge.bytes')}>{formatBytes(edge.bytes)}</Descriptions.Item>
        <Descriptions.Item label={t('map.edge.sessions')}>{edge.sessions}</Descriptions.Item>
        <Descriptions.Item label={t('map.edge.violations')}>{edge.violations}</Descriptions.Item>
        <Descriptions.Item label={t('map.edge.lastSeen')}>{formatTime(edge.lastSeen)}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5}>{t('map.edge.rules')}</Typography.Title>
      {explained === null ? (
        <Spin />
      ) : (
        <List
          size="small"
          dataSource={explained}
          renderItem={({ port, result }) => (
            <List.Item data-testid="edge-explain">
              {result instanceof ApiError ? (
                <Alert type="error" showIcon message={`${port}: ${result.message}`} />
              ) : (
                <Space direction="vertical" size={0}>
                  <span>
                    <Tag>{port}</Tag>
                    <Tag color={VERDICT_COLOURS[result.verdict]}>{t(`map.verdict.${result.verdict}`)}</Tag>
                    {result.rule
                      ? t('map.edge.ruleRef', { id: result.rule.id, from: result.rule.from, to: result.rule.to, ports: result.rule.ports, action: result.rule.action })
                      : t('map.edge.implicitDeny')}
                  </span>
                  <Typography.Text type="secondary">
                    {t('map.edge.enforcedBy')}: {t(`map.edge.enforced.${result.enforcedBy}`)}
                  </Typography.Text>
                </Space>
              )}
            </List.Item>
          )}
        />
      )}
      {canEdit && (
        <Button type="primary" onClick={createRule}>
          {t('map.edge.createRule')}
        </Button>
      )}
    </Space>
  );
}
