/**
 * Policies: the ordered group-to-group rules, their order, export/import as a document, and
 * explain (the verdict of a real or hypothetical flow, the rule deciding it, the enforcing side).
 */
import { Type } from '@sinclair/typebox';
import YAML from 'yaml';
import { MsegError } from '../errors.js';
import { Evaluator, explainFlow, parseFlowApp, parseFlowPort, resolveEndpoint } from '../policy/explain.js';
import { exportPolicy, importPolicy, PolicyDocumentSchema } from '../policy/import-export.js';
import { policySnapshot } from '../policy/membership.js';
import { createRule, deleteRule, getRule, listRules, reorderRules, updateRule } from '../policy/repository.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, PageOf, Paging } from './schemas/common.js';

const Action = Type.Union([Type.Literal('allow'), Type.Literal('deny')]);
const GroupRef = Type.String({ minLength: 1, maxLength: 256 });
const Ports = Type.String({ maxLength: 1024, description: '`any` or `tcp/80,udp/53,tcp/8000-8080`' });
const Apps = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64, description: '["any"] or application names' });
const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const RuleSchema = Type.Object({
  id: Type.Integer(),
  position: Type.Number(),
  from: Type.String(),
  to: Type.String(),
  ports: Type.String(),
  apps: Type.Array(Type.String()),
  action: Action,
  enabled: Type.Boolean(),
  comment: Type.String(),
  hits: Type.Integer(),
  lastHit: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

const NewRule = Type.Object(
  {
    from: GroupRef,
    to: GroupRef,
    ports: Type.Optional(Ports),
    apps: Type.Optional(Apps),
    action: Action,
    enabled: Type.Optional(Type.Boolean()),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'insert before this rule id; default last' })),
  },
  { additionalProperties: false },
);

const RulePatch = Type.Object(
  {
    from: Type.Optional(GroupRef),
    to: Type.Optional(GroupRef),
    ports: Type.Optional(Ports),
    apps: Type.Optional(Apps),
    action: Type.Optional(Action),
    enabled: Type.Optional(Type.Boolean()),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Decision = Type.Union([Type.Object({ ruleId: Type.Integer(), action: Action }), Type.Null()]);
const EndpointMode = Type.Union([Type.Literal('monitor'), Type.Literal('protect'), Type.Literal('mixed'), Type.Null()]);
const SideReport = Type.Object({
  kind: Type.Union([Type.Literal('workload'), Type.Literal('group'), Type.Literal('address')]),
  ref: Type.String(),
  workload: Type.Union([Type.String(), Type.Null()]),
  groups: Type.Array(Type.String()),
  mode: EndpointMode,
  decision: Decision,
});
const Explanation = Type.Object({
  verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('violate')]),
  ruleId: Type.Integer({ description: 'deciding rule; 0 = implicit deny' }),
  rule: Type.Union([RuleSchema, Type.Null()]),
  enforcedBy: Type.Union([Type.Literal('client'), Type.Literal('server'), Type.Literal('both'), Type.Literal('none')], {
    description: "ends in Protect: the client blocks at its egress, the server at its ingress; none = Monitor, denies are only reported (violate)",
  }),
  flow: Type.Object({ proto: Type.Integer(), port: Type.Integer(), app: Type.Union([Type.String(), Type.Null()]) }),
  client: SideReport,
  server: SideReport,
});

const ImportResult = Type.Object({
  groupsCreated: Type.Integer(),
  groupsUpdated: Type.Integer(),
  rulesCreated: Type.Integer(),
  rulesUpdated: Type.Integer(),
  rulesDeleted: Type.Integer(),
  reordered: Type.Boolean(),
  revision: Type.Union([Type.Integer(), Type.Null()], { description: 'new policy revision; null when nothing changed' }),
});

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

const policies: ApiPlugin = async (app, { ctx }) => {
  // Import takes YAML as well as JSON; this parser is scoped to this plugin's routes.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, YAML.parse(body as string) as unknown);
    } catch (e) {
      done(new MsegError('MSEG_ERR_VALIDATION', `body: not valid YAML (${(e as Error).message.split('\n')[0]})`, 'body'), undefined);
    }
  });

  app.get(
    '/policies',
    {
      schema: {
        tags: ['policies'],
        summary: 'List rules in evaluation order',
        querystring: Type.Object(
          {
            ...Paging,
            group: Type.Optional(Type.String({ maxLength: 256, description: 'rules from or to this group' })),
            from: Type.Optional(Type.String({ maxLength: 256 })),
            to: Type.Optional(Type.String({ maxLength: 256 })),
            action: Type.Optional(Action),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(RuleSchema), ...ErrorResponses },
      },
    },
    async (req) => {
      const page = await listRules(ctx, req.query);
      return { ...page, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/policies',
    { schema: { tags: ['policies'], summary: 'Add a rule (last, or before another)', body: NewRule, response: { 201: RuleSchema, ...ErrorResponses } } },
    async (req, reply) => reply.status(201).send(await createRule(ctx, req.body)),
  );

  app.post(
    '/policies/reorder',
    {
      schema: {
        tags: ['policies'],
        summary: 'Set the evaluation order: every rule id once',
        body: Type.Object({ ids: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 100_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...ErrorResponses },
      },
    },
    async (req) => ({ items: await reorderRules(ctx, req.body.ids) }),
  );

  app.get(
    '/policies/export',
    {
      schema: {
        tags: ['policies'],
        summary: 'User and service groups and the rules in order, as JSON or YAML',
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')], { default: 'json' })) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const doc = await exportPolicy(ctx);
      if (req.query.format === 'yaml') return reply.type('application/yaml').send(YAML.stringify(doc));
      return reply.type('application/json').send(JSON.stringify(doc));
    },
  );

  app.post(
    '/policies/import',
    {
      schema: {
        tags: ['policies'],
        summary: 'Make the policy match a document (YAML or JSON); importing it again changes nothing',
        consumes: ['application/json', ...YAML_TYPES],
        querystring: Type.Object(
          { mode: Type.Optional(Type.Union([Type.Literal('merge'), Type.Literal('replace')], { default: 'merge', description: 'replace also deletes unlisted rules and sets the order' })) },
          { additionalProperties: false },
        ),
        body: PolicyDocumentSchema,
        response: { 200: ImportResult, ...ErrorResponses },
      },
    },
    async (req) => importPolicy(ctx, req.body, req.query.mode ?? 'merge'),
  );

  app.get(
    '/policies/explain',
    {
      schema: {
        tags: ['policies'],
        summary: 'Verdict of a flow, real or hypothetical: deciding rule, enforcing side, modes of both ends',
        querystring: Type.Object(
          {
            from: Type.String({ minLength: 1, maxLength: 256, description: 'client: workload id, group name or IP' }),
            to: Type.String({ minLength: 1, maxLength: 256, description: 'server: workload id, group name or IP' }),
            port: Type.String({ minLength: 1, maxLength: 32, description: 'protocol and server port, e.g. tcp/80, udp/53, icmp' }),
            app: Type.Optional(Type.String({ maxLength: 64, description: 'application; absent = not identified' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Explanation, ...ErrorResponses },
      },
    },
    async (req) => {
      const { proto, port } = parseFlowPort(req.query.port, 'query.port');
      const app = parseFlowApp(req.query.app, 'query.app');
      const snap = await policySnapshot(ctx);
      const client = resolveEndpoint(snap, req.query.from, 'query.from');
      const server = resolveEndpoint(snap, req.query.to, 'query.to');
      return explainFlow(new Evaluator(snap), client, server, { proto, port, app });
    },
  );

  app.get(
    '/policies/:id',
    { schema: { tags: ['policies'], summary: 'One rule', params: IdParam, response: { 200: RuleSchema, ...ErrorResponses } } },
    async (req) => getRule(ctx, req.params.id),
  );

  app.patch(
    '/policies/:id',
    { schema: { tags: ['policies'], summary: 'Change a rule', params: IdParam, body: RulePatch, response: { 200: RuleSchema, ...ErrorResponses } } },
    async (req) => updateRule(ctx, req.params.id, req.body),
  );

  app.delete(
    '/policies/:id',
    { schema: { tags: ['policies'], summary: 'Delete a rule', params: IdParam, response: { ...ErrorResponses } } },
    async (req, reply) => {
      await deleteRule(ctx, req.params.id);
      return reply.status(204).send();
    },
  );
};

export default policies;
