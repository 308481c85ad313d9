/**
 * The network map: workloads (or their groups) and the conversations between them in a time
 * window, filtered by group, application and verdict, with search and details panels.
 */
import { AutoComplete, Button, Card, Drawer, Flex, Segmented, Select, Space, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useMemo, useRef, useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiErrorState } from '../../components/ApiErrorState';
import { EdgePanel } from './EdgePanel';
import { MapCanvas, type MapCanvasHandle } from './MapCanvas';
import { buildScene, facets, searchNodes, type ViewEdge, type ViewNode } from './model';
import { NodePanel } from './NodePanel';
import { groupColour, VERDICT_COLOURS } from './renderer';
import type { MapFilters, TimeWindow, Verdict } from './types';
import { useGraph } from './useGraph';

const WINDOWS: TimeWindow[] = ['live', '15m', '1h', '24h'];
const VERDICTS: Verdict[] = ['allow', 'violate', 'deny'];
/** Above this many workloads the map starts rolled up to groups (as the API's level=auto does). */
const ROLL_UP_NODES = 500;

export function MapPage() {
  const t = useT();
  const [window, setWindow] = useState<TimeWindow>('live');
  const [filters, setFilters] = useState<Omit<MapFilters, 'window'>>({ groups: [], apps: [], verdicts: [] });
  // null until the first graph: then the default roll-up is chosen by its size.
  const [collapsed, setCollapsed] = useState<Set<string> | null>(null);
  const [selected, setSelected] = useState<{ node: ViewNode | null; edge: ViewEdge | null }>({ node: null, edge: null });
  const [search, setSearch] = useState('');
  // Rolling all groups up or out changes the map's extent: the view fits the new one.
  const [fitKey, setFitKey] = useState(0);
  const rollAll = (groupsRolled: string[]) => {
    setCollapsed(new Set(groupsRolled));
    setFitKey((k) => k + 1);
  };
  const canvas = useRef<MapCanvasHandle>(null);
  const graph = useGraph(window);

  const { groups, apps } = useMemo(() => (graph.data ? facets(graph.data) : { groups: [], apps: [] }), [graph.data]);
  const effectiveCollapsed = useMemo(() => {
    if (collapsed) return collapsed;
    return graph.data && graph.data.nodes.length > ROLL_UP_NODES ? new Set(groups) : new Set<string>();
  }, [collapsed, graph.data, groups]);
  const scene = useMemo(
    () => (graph.data ? buildScene(graph.data, { window, ...filters }, effectiveCollapsed) : null),
    [graph.data, window, filters, effectiveCollapsed],
  );

  // A selection refers to the scene it came from; map it onto the new one by id after a refresh.
  const node = selected.node && scene ? (scene.byId.get(selected.node.id) ?? null) : null;
  const edge = selected.edge && scene ? (scene.edges.find((e) => e.source.id === selected.edge!.source.id && e.target.id === selected.edge!.target.id) ?? null) : null;

  const setGroupCollapsed = (group: string, rolled: boolean) => {
    const next = new Set(effectiveCollapsed);
    if (rolled) next.add(group);
    else next.delete(group);
    setCollapsed(next);
    setSelected({ node: null, edge: null });
  };

  const options = scene ? searchNodes(scene, search).map((n) => ({ value: n.id, label: `${n.label} · ${t(`map.kind.${n.kind}`)}` })) : [];
  const focusNode = (id: string) => {
    const n = scene?.byId.get(id);
    if (!n) return;
    setSelected({ node: n, edge: null });
    canvas.current?.focus(n);
  };

  if (graph.error && !graph.data) return <ApiErrorState error={graph.error} onRetry={graph.reload} />;

  return (
    <Flex vertical gap="small" style={{ height: 'calc(100vh - 140px)', minHeight: 480 }}>
      <Card size="small">
        <Flex wrap gap="small" align="center">
          <Segmented<TimeWindow> value={window} onChange={setWindow} options={WINDOWS.map((w) => ({ value: w, label: t(`map.window.${w}`) }))} />
          <Select
            mode="multiple"
            allowClear
            style={{ minWidth: 180 }}
            placeholder={t('map.filter.groups')}
            aria-label={t('map.filter.groups')}
            value={filters.groups}
            onChange={(v) => setFilters({ ...filters, groups: v })}
            options={groups.map((g) => ({ value: g, label: g }))}
          />
          <Select
            mode="multiple"
            allowClear
            style={{ minWidth: 160 }}
            placeholder={t('map.filter.apps')}
            aria-label={t('map.filter.apps')}
            value={filters.apps}
            onChange={(v) => setFilters({ ...filters, apps: v })}
            options={apps.map((a) => ({ value: a, label: a || '—' }))}
          />
          <Select
            mode="multiple"
            allowClear
            style={{ minWidth: 160 }}
            placeholder={t('map.filter.verdicts')}
            aria-label={t('map.filter.verdicts')}
            value={filters.verdicts}
            onChange={(v) => setFilters({ ...filters, verdicts: v })}
            options={VERDICTS.map((v) => ({ value: v, label: t(`map.verdict.${v}`) }))}
          />
          <AutoComplete
            style={{ width: 260 }}
            value={search}
            options={options}
            onChange={setSearch}
            onSelect={(id: string) => focusNode(id)}
            placeholder={t('map.search')}
            aria-label={t('map.search')}
          />
          <Button onClick={() => rollAll(groups)}>{t('map.collapseAll')}</Button>
          <Button onClick={() => rollAll([])}>{t('map.expandAll')}</Button>
          <Button onClick={() => canvas.current?.fit()}>{t('map.fit')}</Button>
        </Flex>
      </Card>
      <Card size="small" style={{ flex: 1, position: 'relative' }} styles={{ body: { position: 'absolute', inset: 0, padding: 0 } }}>
        {scene && (
          <MapCanvas
            ref={canvas}
            scene={scene}
            selectedNode={node}
            selectedEdge={edge}
            onSelectNode={(n) => setSelected({ node: n, edge: null })}
            onSelectEdge={(e) => setSelected({ node: null, edge: e })}
            label={t('map.summary', { nodes: scene.nodes.length, edges: scene.edges.length })}
            fitKey={fitKey}
          />
        )}
        {scene && scene.nodes.length === 0 && (
          <Flex align="center" justify="center" style={{ position: 'absolute', inset: 0, pointerEvents: 'none' }}>
            <Typography.Text type="secondary">{t('map.empty')}</Typography.Text>
          </Flex>
        )}
        <Space size="small" wrap style={{ position: 'absolute', left: 8, bottom: 8, background: 'rgba(255,255,255,0.85)', padding: '2px 6px', pointerEvents: 'none' }}>
          {VERDICTS.map((v) => (
            <Tag key={v} color={VERDICT_COLOURS[v]}>
              {t(`map.verdict.${v}`)}
            </Tag>
          ))}
          <Typography.Text type="secondary">{t('map.legend.protect')}</Typography.Text>
          <Typography.Text type="secondary">{t('map.legend.external')}</Typography.Text>
          <Typography.Text type="secondary">{t('map.legend.host')}</Typography.Text>
          {graph.data && <Typography.Text type="secondary">{t('map.updated', { time: dayjs(graph.data.until).format('HH:mm:ss') })}</Typography.Text>}
        </Space>
      </Card>
      <Drawer
        open={node !== null || edge !== null}
        mask={false}
        width={480}
        onClose={() => setSelected({ node: null, edge: null })}
        title={
          node ? (
            <Space>
              <span style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 5, background: groupColour(node.group) }} />
              {node.label}
            </Space>
          ) : edge ? (
            t('map.edge.title', { from: edge.source.label, to: edge.target.label })
          ) : null
        }
      >
        {node && scene && (
          <NodePanel
            node={node}
            scene={scene}
            onExpand={(g) => setGroupCollapsed(g, false)}
            onCollapse={(g) => setGroupCollapsed(g, true)}
            onSelectNode={(n) => setSelected({ node: n, edge: null })}
            onSelectEdge={(e) => setSelected({ node: null, edge: e })}
          />
        )}
        {edge && <EdgePanel edge={edge} />}
      </Drawer>
    </Flex>
  );
}
