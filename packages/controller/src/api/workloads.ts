/**
 * Workloads as the agents report them, with the policy mode of each one's service group. The mode
 * of a service whose group does not exist yet is the system default, which is what that group
 * will be created with.
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql, type SelectQueryBuilder } from 'kysely';
import { isMsegError, MsegError } from '../errors.js';
import { workloadsInGroup } from '../policy/membership.js';
import { getSystemConfig, Mode } from '../server/config.js';
import type { Database } from '../store/schema.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, likeLiteral, PageOf, Paging } from './schemas/common.js';

const WorkloadState = Type.Union([Type.Literal('running'), Type.Literal('stopped'), Type.Literal('unmonitored')]);

export const Workload = Type.Object({
  id: Type.String(),
  agentId: Type.String(),
  host: Type.String(),
  name: Type.String(),
  image: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  service: Type.String(),
  interfaces: Type.Array(Type.Object({ name: Type.String(), mac: Type.String(), ips: Type.Array(Type.String()) })),
  state: WorkloadState,
  reason: Type.String({ description: 'why a running workload is not monitored' }),
  mode: Mode,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type Workload = Static<typeof Workload>;

const Filters = Type.Object(
  {
    ...Paging,
    host: Type.Optional(Type.String({ maxLength: 256, description: 'exact host name' })),
    group: Type.Optional(Type.String({ maxLength: 256, description: 'members of this group (live membership)' })),
    service: Type.Optional(Type.String({ maxLength: 256, description: 'exact service name' })),
    image: Type.Optional(Type.String({ maxLength: 512, description: 'image contains this text (case-insensitive)' })),
    name: Type.Optional(Type.String({ maxLength: 256, description: 'name contains this text (case-insensitive)' })),
    mode: Type.Optional(Mode),
    state: Type.Optional(WorkloadState),
  },
  { additionalProperties: false },
);

type Joined = SelectQueryBuilder<Database & { g: Database['groups'] }, 'workloads' | 'g', object>;

const workloads: ApiPlugin = async (app, { ctx }) => {
  /** Workloads left-joined with their service group `svc.<service>` as `g`. */
  function base(): Joined {
    return ctx.store.db
      .selectFrom('workloads')
      .leftJoin('groups as g', (j) => j.on(sql<boolean>`g.name = 'svc.' || workloads.service`)) as unknown as Joined;
  }

  async function select(q: Joined, defaultMode: string) {
    const rows = await q.selectAll('workloads').select(sql<string>`coalesce(g.mode, ${defaultMode})`.as('mode')).execute();
    return rows.map(
      (r): Workload => ({
        id: r.id,
        agentId: r.agent_id,
        host: r.host,
        name: r.name,
        image: r.image,
        labels: JSON.parse(r.labels) as Record<string, string>,
        service: r.service,
        interfaces: JSON.parse(r.interfaces) as Workload['interfaces'],
        state: r.state,
        reason: r.reason,
        mode: r.mode as Workload['mode'],
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      }),
    );
  }

  async function members(group: string): Promise<string[]> {
    try {
      return await workloadsInGroup(ctx, group);
    } catch (e) {
      if (isMsegError(e) && e.code === 'MSEG_ERR_NOT_FOUND') throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${group}" does not exist`, 'query.group');
      throw e;
    }
  }

  app.get(
    '/workloads',
    {
      schema: {
        tags: ['workloads'],
        summary: 'List workloads (filters combine with AND)',
        querystring: Filters,
        response: { 200: PageOf(Workload), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, host, group, service, image, name, mode, state } = req.query;
      const { defaultMode } = await getSystemConfig(ctx);
      let q = base();
      if (group !== undefined) {
        const ids = await members(group);
        if (ids.length === 0) return { items: [], total: 0, limit, offset };
        q = q.where('workloads.id', 'in', ids);
      }
      if (host !== undefined) q = q.where('workloads.host', '=', host);
      if (service !== undefined) q = q.where('workloads.service', '=', service);
      if (state !== undefined) q = q.where('workloads.state', '=', state);
      if (image !== undefined) q = q.where(sql<boolean>`lower(workloads.image) like lower(${`%${likeLiteral(image)}%`}) escape '\\'`);
      if (name !== undefined) q = q.where(sql<boolean>`lower(workloads.name) like lower(${`%${likeLiteral(name)}%`}) escape '\\'`);
      if (mode !== undefined) q = q.where(sql<boolean>`coalesce(g.mode, ${defaultMode}) = ${mode}`);
      const [items, total] = await Promise.all([
        select(q.orderBy('workloads.host').orderBy('workloads.name').orderBy('workloads.id').limit(limit).offset(offset), defaultMode),
        q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items, total: Number(total.n), limit, offset };
    },
  );

  app.get(
    '/workloads/:id',
    {
      schema: {
        tags: ['workloads'],
        summary: 'One workload',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Workload, ...ErrorResponses },
      },
    },
    async (req) => {
      const { defaultMode } = await getSystemConfig(ctx);
      const [w] = await select(base().where('workloads.id', '=', req.params.id), defaultMode);
      if (!w) throw new MsegError('MSEG_ERR_NOT_FOUND', `no workload ${req.params.id}`, 'params.id');
      return w;
    },
  );
};

export default workloads;
