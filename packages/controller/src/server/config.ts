/**
 * System configuration kept in the store's `config` table, one row per key (JSON value), so two
 * admins patching different keys never overwrite each other. Readers elsewhere: policy (default
 * mode of new service groups), rollup (retention), auth (token lifetime).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Context } from './context.js';

export const Mode = Type.Union([Type.Literal('monitor'), Type.Literal('protect')]);

export const Retention = Type.Object(
  {
    rawMinutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'keep 5 s raw conversation buckets this many minutes' }),
    minuteHours: Type.Integer({ minimum: 1, maximum: 720, description: 'keep 1 min buckets this many hours' }),
    hourDays: Type.Integer({ minimum: 1, maximum: 3650, description: 'keep 1 h buckets this many days' }),
  },
  { additionalProperties: false },
);

export const SystemConfig = Type.Object(
  {
    defaultMode: Mode,
    retention: Retention,
    sessionHours: Type.Integer({ minimum: 1, maximum: 720, description: 'lifetime of a login token' }),
  },
  { additionalProperties: false },
);
export type SystemConfig = Static<typeof SystemConfig>;

/** A patch: any subset of keys; retention may be given in part. */
export const SystemConfigPatch = Type.Object(
  {
    defaultMode: Type.Optional(Mode),
    retention: Type.Optional(Type.Partial(Retention, { additionalProperties: false })),
    sessionHours: Type.Optional(SystemConfig.properties.sessionHours),
  },
  { additionalProperties: false },
);
export type SystemConfigPatch = Static<typeof SystemConfigPatch>;

export const DEFAULT_CONFIG: SystemConfig = {
  defaultMode: 'monitor',
  retention: { rawMinutes: 60, minuteHours: 48, hourDays: 30 },
  sessionHours: 12,
};

const KEYS = Object.keys(DEFAULT_CONFIG) as (keyof SystemConfig)[];

export async function getSystemConfig(ctx: Context): Promise<SystemConfig> {
  const rows = await ctx.store.db.selectFrom('config').select(['key', 'value']).where('key', 'in', KEYS).execute();
  const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
  return {
    defaultMode: (stored.defaultMode as SystemConfig['defaultMode']) ?? DEFAULT_CONFIG.defaultMode,
    retention: { ...DEFAULT_CONFIG.retention, ...(stored.retention as Partial<SystemConfig['retention']>) },
    sessionHours: (stored.sessionHours as number) ?? DEFAULT_CONFIG.sessionHours,
  };
}

/** Applies a validated patch and announces the changed keys on the event bus. */
export async function patchSystemConfig(ctx: Context, patch: SystemConfigPatch): Promise<SystemConfig> {
  const keys = KEYS.filter((k) => patch[k] !== undefined);
  await ctx.store.db.transaction().execute(async (tx) => {
    for (const key of keys) {
      let value: unknown = patch[key];
      if (key === 'retention') {
        const row = await tx.selectFrom('config').select('value').where('key', '=', key).executeTakeFirst();
        value = { ...DEFAULT_CONFIG.retention, ...(row ? (JSON.parse(row.value) as object) : {}), ...patch.retention };
      }
      const json = JSON.stringify(value);
      await tx.insertInto('config').values({ key, value: json }).onConflict((oc) => oc.column('key').doUpdateSet({ value: json })).execute();
    }
  });
  if (keys.length > 0) ctx.events.emit('config', { keys });
  return getSystemConfig(ctx);
}
