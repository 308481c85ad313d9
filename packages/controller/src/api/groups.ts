/**
 * Groups: user groups by criteria, the service groups (`svc.<service>`, holding the policy mode)
 * and the reserved external/nodes/containers. Members are computed live from the workloads.
 */
import { Type } from '@sinclair/typebox';
import { CriterionSchema } from '../policy/import-export.js';
import { policySnapshot, workloadsInGroup, workloadsMatching } from '../policy/membership.js';
import { previewProtect } from '../policy/preview.js';
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from '../policy/repository.js';
import { checkCriteria } from '../policy/validate.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, PageOf, Paging } from './schemas/common.js';

const Mode = Type.Union([Type.Literal('monitor'), Type.Literal('protect')]);
const Kind = Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('reserved')]);
const NameParam = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
const Criteria = Type.Array(CriterionSchema, { maxItems: 64 });
/** Members a preview lists; `total` still counts them all. */
export const PREVIEW_MEMBERS = 200;

export const GroupSchema = Type.Object({
  name: Type.String(),
  comment: Type.String(),
  criteria: Type.Array(CriterionSchema),
  kind: Kind,
  mode: Type.Union([Mode, Type.Null()], { description: 'service groups only' }),
  members: Type.Integer({ description: 'running workloads in the group now' }),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

const NewGroup = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
    criteria: Criteria,
  },
  { additionalProperties: false },
);

const GroupPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'rename (user groups); rules follow' })),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
    criteria: Type.Optional(Criteria),
    mode: Type.Optional(Mode),
  },
  { additionalProperties: false, minProperties: 1 },
);

const PreviewBody = Type.Object({ criteria: Criteria }, { additionalProperties: false });

const Preview = Type.Object({
  members: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), service: Type.String(), host: Type.String() }), {
    description: `by name, at most ${PREVIEW_MEMBERS}`,
  }),
  total: Type.Integer({ description: 'running workloads the criteria select' }),
});

const WouldBlock = Type.Object({
  clientWorkload: Type.String(),
  serverWorkload: Type.String(),
  clientIp: Type.String(),
  serverIp: Type.String(),
  serverPort: Type.Integer(),
  proto: Type.Integer(),
  app: Type.String(),
  side: Type.Union([Type.Literal('egress'), Type.Literal('ingress')]),
  ruleId: Type.Integer({ description: 'deciding deny rule; 0 = implicit deny' }),
  sessions: Type.Integer(),
  bytes: Type.Integer(),
  lastSeen: Type.Integer(),
});

const groups: ApiPlugin = async (app, { ctx }) => {
  const withMembers = async <T extends { name: string }>(list: T[]) => {
    const snap = await policySnapshot(ctx);
    return list.map((g) => ({ ...g, members: snap.members.get(g.name)?.length ?? 0 }));
  };

  app.get(
    '/groups',
    {
      schema: {
        tags: ['groups'],
        summary: 'List groups',
        querystring: Type.Object(
          { ...Paging, kind: Type.Optional(Kind), name: Type.Optional(Type.String({ maxLength: 256, description: 'name contains (case-insensitive)' })) },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(GroupSchema), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, kind, name } = req.query;
      const page = await listGroups(ctx, { limit, offset, kind, name });
      return { items: await withMembers(page.items), total: page.total, limit, offset };
    },
  );

  app.post(
    '/groups',
    { schema: { tags: ['groups'], summary: 'Create a user group', body: NewGroup, response: { 201: GroupSchema, ...ErrorResponses } } },
    async (req, reply) => {
      const g = await createGroup(ctx, req.body);
      return reply.status(201).send((await withMembers([g]))[0]);
    },
  );

  app.post(
    '/groups/preview',
    {
      // Evaluates criteria and stores nothing, so readers may call it although it is a POST
      // (the criteria are a body, as in POST /groups).
      config: { anyRole: true },
      schema: {
        tags: ['groups'],
        summary: 'Running workloads that criteria would select, checked as POST /groups checks them; nothing is saved',
        body: PreviewBody,
        response: { 200: Preview, ...ErrorResponses },
      },
    },
    async (req) => {
      const criteria = checkCriteria(req.body.criteria, 'body.criteria');
      const matched = workloadsMatching(await policySnapshot(ctx), criteria);
      matched.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      const members = matched.slice(0, PREVIEW_MEMBERS).map(({ id, name, service, host }) => ({ id, name, service, host }));
      return { members, total: matched.length };
    },
  );

  app.get(
    '/groups/:name',
    { schema: { tags: ['groups'], summary: 'One group', params: NameParam, response: { 200: GroupSchema, ...ErrorResponses } } },
    async (req) => (await withMembers([await getGroup(ctx, req.params.name)]))[0],
  );

  app.patch(
    '/groups/:name',
    {
      schema: {
        tags: ['groups'],
        summary: 'Change a group: comment, criteria or name (user groups), mode (service groups)',
        params: NameParam,
        body: GroupPatch,
        response: { 200: GroupSchema, ...ErrorResponses },
      },
    },
    async (req) => (await withMembers([await updateGroup(ctx, req.params.name, req.body)]))[0],
  );

  app.delete(
    '/groups/:name',
    { schema: { tags: ['groups'], summary: 'Delete a group no rule uses', params: NameParam, response: { ...ErrorResponses } } },
    async (req, reply) => {
      await deleteGroup(ctx, req.params.name);
      return reply.status(204).send();
    },
  );

  app.get(
    '/groups/:name/members',
    {
      schema: {
        tags: ['groups'],
        summary: 'Ids of the running workloads in the group',
        params: NameParam,
        querystring: Type.Object({ ...Paging }, { additionalProperties: false }),
        response: { 200: PageOf(Type.String()), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const ids = [...(await workloadsInGroup(ctx, req.params.name))].sort();
      return { items: ids.slice(offset, offset + limit), total: ids.length, limit, offset };
    },
  );

  app.get(
    '/groups/:name/preview-protect',
    {
      schema: {
        tags: ['groups'],
        summary: "Conversations of the last 24 h that Protect on this service group would block",
        params: NameParam,
        querystring: Type.Object({ ...Paging }, { additionalProperties: false }),
        response: { 200: PageOf(WouldBlock), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const all = await previewProtect(ctx, req.params.name);
      return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
    },
  );
};

export default groups;
