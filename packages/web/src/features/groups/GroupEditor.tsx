/**
 * Create or edit a user group: name, comment and criteria, with the members the criteria select
 * beside the form, previewed live while they are edited. The API validates; its 400 names the
 * field (`body.criteria.0.value`) and the message is shown under that input, on save as in the
 * preview.
 */
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Col, Drawer, Form, Input, List, Row, Select, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useT } from '../../app/i18n/I18nProvider';
import { ApiError } from '../../lib/api';
import { createGroup, updateGroup } from './api';
import { CRITERION_KEYS, CRITERION_OPS, type Criterion, type Group } from './types';
import { usePreview } from './usePreview';

interface FormValues {
  name: string;
  comment: string;
  criteria: Criterion[];
}

interface Props {
  open: boolean;
  group: Group | null;
  onSaved(g: Group): void;
  onClose(): void;
}

/** The preview's 400, placed on a criterion row and part when it names one. */
interface PreviewError {
  row: number | null;
  part: string | null;
  message: string;
}

/** Rows with a key, an operator and a value: a row just added and not filled yet is no error yet. */
function previewRows(criteria: (Partial<Criterion> | undefined)[] | undefined): { row: number; criterion: Criterion }[] {
  return (criteria ?? []).flatMap((c, row) => (c?.key && c.op && c.value?.trim() ? [{ row, criterion: { key: c.key, op: c.op, value: c.value } }] : []));
}

/** `body.criteria.<i>.<part>`, where i counts the rows sent, back to the form's row number. */
function previewError(e: Error | undefined, rows: { row: number }[]): PreviewError | null {
  if (!(e instanceof ApiError) || e.status !== 400) return null;
  const m = /^criteria\.(\d+)\.(\w+)$/.exec(e.formField ?? '');
  const row = m ? rows[Number(m[1])]?.row : undefined;
  return { row: row ?? null, part: row === undefined ? null : (m?.[2] ?? null), message: e.message };
}

/** `body.criteria.0.value` → ['criteria', 0, 'value'] as a form path. */
function formPath(e: unknown): (string | number)[] | null {
  if (!(e instanceof ApiError) || !e.formField) return null;
  const path = e.formField.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return ['name', 'comment', 'criteria'].includes(String(path[0])) ? path : null;
}

export function GroupEditor({ open, group, onSaved, onClose }: Props) {
  const t = useT();
  const [form] = Form.useForm<FormValues>();
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(group?.name ?? null);
  const rows = previewRows(Form.useWatch('criteria', form));
  const preview = usePreview(open ? rows.map((r) => r.criterion) : null);
  const invalid = previewError(preview.error, rows);
  const errorAt = (row: number, part: keyof Criterion) =>
    invalid && invalid.row === row && invalid.part === part ? { validateStatus: 'error' as const, help: invalid.message } : {};

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    form.setFieldsValue({ name: group?.name ?? '', comment: group?.comment ?? '', criteria: group?.criteria ?? [] });
    setSaved(group?.name ?? null);
    setFormError(null);
  }, [open, group, form]);

  const submit = async (v: FormValues) => {
    setSaving(true);
    setFormError(null);
    const body = { name: v.name.trim(), comment: v.comment ?? '', criteria: v.criteria ?? [] };
    try {
      const g = saved ? await updateGroup(saved, saved === body.name ? { comment: body.comment, criteria: body.criteria } : body) : await createGroup(body);
      setSaved(g.name);
      onSaved(g);
    } catch (e) {
      const path = formPath(e);
      const msg = e instanceof Error ? e.message : String(e);
      // The path comes from the API, so it is typed as the form's general name path.
      if (path) form.setFields([{ name: path as never, errors: [msg] }]);
      else setFormError(msg);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Drawer
      open={open}
      width={880}
      onClose={onClose}
      title={group ? t('groups.form.editTitle', { name: group.name }) : t('groups.form.newTitle')}
      extra={
        <Button type="primary" loading={saving} onClick={() => form.submit()}>
          {t('groups.form.save')}
        </Button>
      }
    >
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Row gutter={24}>
        <Col span={15}>
          <Form form={form} layout="vertical" onFinish={submit} name="group">
            <Form.Item name="name" label={t('groups.form.name')} rules={[{ required: true, message: t('groups.form.required') }]}>
              <Input />
            </Form.Item>
            <Form.Item name="comment" label={t('groups.form.comment')}>
              <Input />
            </Form.Item>
            <Typography.Text strong>{t('groups.form.criteria')}</Typography.Text>
            <Form.List name="criteria">
              {(fields, { add, remove }) => (
                <>
                  {fields.map((f) => (
                    <Space key={f.key} align="baseline" style={{ display: 'flex', marginTop: 8 }}>
                      <Form.Item name={[f.name, 'key']} {...errorAt(f.name, 'key')} rules={[{ required: true, message: t('groups.form.required') }]}>
                        <Select aria-label={t('groups.form.key')} style={{ width: 110 }} options={CRITERION_KEYS.map((k) => ({ value: k, label: k }))} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'op']} {...errorAt(f.name, 'op')} rules={[{ required: true, message: t('groups.form.required') }]}>
                        <Select aria-label={t('groups.form.op')} style={{ width: 110 }} options={CRITERION_OPS.map((o) => ({ value: o, label: o }))} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'value']} {...errorAt(f.name, 'value')}>
                        <Input aria-label={t('groups.form.value')} style={{ width: 220 }} />
                      </Form.Item>
                      <MinusCircleOutlined aria-label={t('groups.form.removeCriterion')} onClick={() => remove(f.name)} />
                    </Space>
                  ))}
                  {invalid && invalid.row === null && (
                    <Typography.Paragraph type="danger" role="alert" style={{ marginTop: 8 }}>
                      {invalid.message}
                    </Typography.Paragraph>
                  )}
                  <Button type="dashed" icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => add({ key: 'service', op: '=', value: '' })}>
                    {t('groups.form.addCriterion')}
                  </Button>
                </>
              )}
            </Form.List>
          </Form>
        </Col>
        <Col span={9}>
          <Typography.Title level={5}>{invalid || preview.error ? t('groups.preview.titleUnknown') : t('groups.preview.title', { total: preview.data?.total ?? 0 })}</Typography.Title>
          <Typography.Paragraph type="secondary">{t('groups.preview.live')}</Typography.Paragraph>
          {invalid ? (
            <Typography.Paragraph type="warning">{t('groups.preview.invalid')}</Typography.Paragraph>
          ) : preview.error ? (
            <Alert type="error" showIcon message={preview.error.message} />
          ) : (
            <section aria-label={t('groups.preview.list')}>
              <List
                size="small"
                bordered
                loading={preview.loading}
                dataSource={preview.data?.members ?? []}
                locale={{ emptyText: t('groups.preview.empty') }}
                renderItem={(m) => (
                  <List.Item key={m.id}>
                    <Typography.Text>{m.name}</Typography.Text>
                    <Typography.Text type="secondary">{`${m.service} · ${m.host}`}</Typography.Text>
                  </List.Item>
                )}
                footer={
                  preview.data && preview.data.total > preview.data.members.length ? t('groups.preview.more', { count: preview.data.total - preview.data.members.length }) : undefined
                }
              />
            </section>
          )}
        </Col>
      </Row>
    </Drawer>
  );
}
