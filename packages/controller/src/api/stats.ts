/**
 * GET /stats: traffic of the whole system and of each workload over the last 5 s, 60 s and
 * 300 s, from the in-memory counters fed at ingest (ingest/traffic-stats.ts). The path is the
 * seed's `/api/v1/stats`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { trafficStats, type TrafficStats } from '../ingest/traffic-stats.js';
import { MsegError } from '../errors.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses } from './schemas/common.js';

const Totals = Type.Object({
  bytes: Type.Integer(),
  packets: Type.Integer(),
  sessions: Type.Integer(),
  violations: Type.Integer(),
  bytesPerSecond: Type.Number(),
  sessionsPerSecond: Type.Number(),
});

const Windows = Type.Object({ '5s': Totals, '60s': Totals, '300s': Totals });
type Windows = Static<typeof Windows>;

const Stats = Type.Object({
  at: Type.Integer({ description: 'ms since the epoch; windows end at the last complete 5 s slot before it' }),
  system: Windows,
  workloads: Type.Array(Type.Object({ id: Type.String(), windows: Windows }), { description: 'busiest first (bytes over 60 s)' }),
  total: Type.Integer({ description: 'workloads with traffic in the last 300 s' }),
});

const Query = Type.Object(
  {
    workload: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only this workload' })),
    limit: Type.Integer({ minimum: 0, maximum: 1000, default: 100, description: 'workloads listed at most' }),
  },
  { additionalProperties: false },
);

function windows(stats: TrafficStats, key: string, now: number): Windows {
  const one = (seconds: number) => {
    const t = stats.window(key, now, seconds);
    return { ...t, bytesPerSecond: t.bytes / seconds, sessionsPerSecond: t.sessions / seconds };
  };
  return { '5s': one(5), '60s': one(60), '300s': one(300) };
}

const stats: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/stats',
    {
      schema: {
        tags: ['stats'],
        summary: 'Traffic of the system and per workload over the last 5 s, 60 s and 300 s',
        querystring: Query,
        response: { 200: Stats, ...ErrorResponses },
      },
    },
    async (req) => {
      const now = ctx.now();
      const s = trafficStats(ctx);
      const { workload, limit } = req.query;
      if (workload !== undefined) {
        const w = await ctx.store.db.selectFrom('workloads').select('id').where('id', '=', workload).executeTakeFirst();
        if (!w) throw new MsegError('MSEG_ERR_NOT_FOUND', `no workload ${workload}`, 'query.workload');
      }
      const ids = workload !== undefined ? [workload] : s.keys().filter((k) => k !== '');
      const all = ids.map((id) => ({ id, windows: windows(s, id, now) })).filter((w) => workload !== undefined || w.windows['300s'].packets > 0);
      all.sort((a, b) => b.windows['60s'].bytes - a.windows['60s'].bytes || (a.id < b.id ? -1 : 1));
      return { at: now, system: windows(s, '', now), workloads: all.slice(0, limit), total: all.length };
    },
  );
};

export default stats;
