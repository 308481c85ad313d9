/** Details of one node on the map: what it is, its applications and its peers. */
import { Button, Descriptions, List, Space, Table, Tag, Typography } from 'antd';
import { Link } from 'react-router';
import { useT } from '../../app/i18n/I18nProvider';
import { formatBytes } from '../../lib/format';
import { appsOf, peersOf, type MapScene, type ViewEdge, type ViewNode } from './model';
import { VERDICT_COLOURS } from './renderer';

interface Props {
  node: ViewNode;
  scene: MapScene;
  onExpand(group: string): void;
  onCollapse(group: string): void;
  onSelectNode(node: ViewNode): void;
  onSelectEdge(edge: ViewEdge): void;
}

export function NodePanel({ node, scene, onExpand, onCollapse, onSelectNode, onSelectEdge }: Props) {
  const t = useT();
  const peers = peersOf(scene, node);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('map.node.kind')}>{t(`map.kind.${node.kind}`)}</Descriptions.Item>
        {node.kind !== 'group' && <Descriptions.Item label={t('map.node.id')}>{node.id}</Descriptions.Item>}
        {node.group !== '' && <Descriptions.Item label={t('map.node.group')}>{node.group}</Descriptions.Item>}
        {node.mode && <Descriptions.Item label={t('map.node.mode')}>{t(`map.mode.${node.mode}`)}</Descriptions.Item>}
        <Descriptions.Item label={t('map.node.apps')}>{appsOf(scene, node).map((a) => <Tag key={a}>{a || '—'}</Tag>)}</Descriptions.Item>
      </Descriptions>
      <Space wrap>
        {node.kind === 'workload' && (
          <Link to={`/workloads/${encodeURIComponent(node.id)}`}>
            <Button>{t('map.node.openWorkload')}</Button>
          </Link>
        )}
        {node.kind === 'group' && <Button onClick={() => onExpand(node.group)}>{t('map.node.expand')}</Button>}
        {node.kind !== 'group' && node.group !== '' && <Button onClick={() => onCollapse(node.group)}>{t('map.node.collapse', { group: node.group })}</Button>}
      </Space>
      {node.kind === 'group' && (
        <>
          <Typography.Title level={5}>
            {t('map.node.members')} ({node.members.length})
          </Typography.Title>
          <List size="small" dataSource={node.members.slice(0, 50)} renderItem={(m) => <List.Item>{m.name}</List.Item>} />
        </>
      )}
      <Typography.Title level={5}>{t('map.node.peers')}</Typography.Title>
      <Table
        size="small"
        rowKey={(p) => `${p.direction}:${p.peer.id}`}
        dataSource={peers}
        pagination={peers.length > 10 ? { pageSize: 10 } : false}
        onRow={(p) => ({ onClick: () => onSelectEdge(p.edge), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('map.peer.direction'), key: 'dir', render: (_, p) => t(p.direction === 'out' ? 'map.peer.out' : 'map.peer.in') },
          {
            title: t('map.node.peers'),
            key: 'peer',
            render: (_, p) => (
              <a
                onClick={(e) => {
                  e.stopPropagation();
                  onSelectNode(p.peer);
                }}
              >
                {p.peer.label}
              </a>
            ),
          },
          { title: t('map.edge.ports'), key: 'ports', render: (_, p) => p.edge.ports.join(', ') },
          { title: t('map.edge.verdict'), key: 'verdict', render: (_, p) => <Tag color={VERDICT_COLOURS[p.edge.verdict]}>{t(`map.verdict.${p.edge.verdict}`)}</Tag> },
          { title: t('map.edge.bytes'), key: 'bytes', render: (_, p) => formatBytes(p.edge.bytes) },
        ]}
      />
    </Space>
  );
}
