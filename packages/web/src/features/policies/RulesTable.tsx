/**
 * The rules in evaluation order. Rows are sortable with @dnd-kit (pointer: drag the handle;
 * keyboard: focus the handle, Space, arrows, Space), in the way Ant Design's sortable-table recipe
 * wires a custom body row; a drop reports the new order and the page saves it.
 */
import { HolderOutlined } from '@ant-design/icons';
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Button, Popconfirm, Space, Switch, Table, Tag } from 'antd';
import { createContext, useContext, type CSSProperties, type HTMLAttributes } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { formatTime } from '../../lib/format';
import type { Rule } from './types';
import { moveId } from './utils';

type HandleProps = ReturnType<typeof useSortable>['listeners'] & ReturnType<typeof useSortable>['attributes'];
const HandleContext = createContext<{ props: HandleProps | undefined; setRef?: (el: HTMLElement | null) => void }>({ props: undefined });

function DragHandle({ id }: { id: number }) {
  const t = useT();
  const { props, setRef } = useContext(HandleContext);
  return (
    <Button type="text" size="small" icon={<HolderOutlined />} ref={setRef} style={{ cursor: 'grab', touchAction: 'none' }} aria-label={t('policies.drag', { id })} {...props} />
  );
}

function SortableRow(props: HTMLAttributes<HTMLTableRowElement> & { 'data-row-key': number }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id: props['data-row-key'] });
  const style: CSSProperties = { ...props.style, transform: CSS.Translate.toString(transform), transition, ...(isDragging ? { position: 'relative', zIndex: 10, background: '#e6f4ff' } : {}) };
  return (
    <HandleContext.Provider value={{ props: { ...attributes, ...listeners } as HandleProps, setRef: setActivatorNodeRef }}>
      <tr {...props} ref={setNodeRef} style={style} />
    </HandleContext.Provider>
  );
}

interface Props {
  rules: Rule[];
  canEdit: boolean;
  onReorder(ids: number[]): void;
  onToggle(rule: Rule, enabled: boolean): void;
  onEdit(rule: Rule): void;
  onDelete(rule: Rule): void;
}

export function RulesTable({ rules, canEdit, onReorder, onToggle, onEdit, onDelete }: Props) {
  const t = useT();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const ids = rules.map((r) => r.id);
  const dragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    onReorder(moveId(ids, Number(active.id), Number(over.id)));
  };

  const table = (
    <Table<Rule>
      rowKey="id"
      size="middle"
      dataSource={rules}
      pagination={false}
      components={canEdit ? { body: { row: SortableRow } } : undefined}
      columns={[
        ...(canEdit ? [{ key: 'drag', width: 40, render: (_: unknown, r: Rule) => <DragHandle id={r.id} /> }] : []),
        { title: t('policies.col.order'), key: 'order', width: 70, render: (_, r) => `${rules.indexOf(r) + 1} · #${r.id}` },
        { title: t('policies.col.from'), dataIndex: 'from' },
        { title: t('policies.col.to'), dataIndex: 'to' },
        { title: t('policies.col.ports'), dataIndex: 'ports' },
        { title: t('policies.col.apps'), key: 'apps', render: (_, r) => r.apps.join(', ') },
        { title: t('policies.col.action'), key: 'action', render: (_, r) => <Tag color={r.action === 'allow' ? 'green' : 'red'}>{t(`policies.action.${r.action}`)}</Tag> },
        {
          title: t('policies.col.enabled'),
          key: 'enabled',
          render: (_, r) => <Switch size="small" checked={r.enabled} disabled={!canEdit} onChange={(v) => onToggle(r, v)} aria-label={t('policies.enable', { id: r.id })} />,
        },
        { title: t('policies.col.hits'), dataIndex: 'hits', align: 'right' },
        { title: t('policies.col.lastHit'), key: 'lastHit', render: (_, r) => (r.lastHit === null ? t('common.never') : formatTime(r.lastHit)) },
        { title: t('policies.col.comment'), dataIndex: 'comment', ellipsis: true },
        ...(canEdit
          ? [
              {
                title: t('policies.col.actions'),
                key: 'actions',
                render: (_: unknown, r: Rule) => (
                  <Space size="small">
                    <Button size="small" onClick={() => onEdit(r)} aria-label={`${t('policies.edit')} #${r.id}`}>
                      {t('policies.edit')}
                    </Button>
                    <Popconfirm title={t('policies.deleteConfirm', { id: r.id })} onConfirm={() => onDelete(r)}>
                      <Button size="small" danger aria-label={`${t('policies.delete')} #${r.id}`}>
                        {t('policies.delete')}
                      </Button>
                    </Popconfirm>
                  </Space>
                ),
              },
            ]
          : []),
      ]}
    />
  );
  if (!canEdit) return table;
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={dragEnd}>
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        {table}
      </SortableContext>
    </DndContext>
  );
}
