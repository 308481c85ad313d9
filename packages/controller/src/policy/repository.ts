/**
 * Stored groups and rules: every write is validated first and runs in one transaction with the
 * revision bump (revision.ts), so a compile never sees half a change and agents learn of each one.
 */
import { sql, type Kysely } from 'kysely';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';
import { type Action, type Criterion, type Group, type Mode, type Rule, SERVICE_PREFIX, groupFromRow, ruleFromRow } from './model.js';
import { policyChange } from './revision.js';
import { checkApps, checkCriteria, checkPorts, checkUserGroupName } from './validate.js';

type Db = Kysely<Database>;

function bad(field: string, message: string): MsegError {
  return new MsegError('MSEG_ERR_VALIDATION', `${field}: ${message}`, field);
}

// ---- groups

export interface GroupFilter {
  kind?: Group['kind'];
  /** Name contains this text. */
  name?: string;
  limit: number;
  offset: number;
}

export async function listGroups(ctx: Context, f: GroupFilter): Promise<{ items: Group[]; total: number }> {
  let q = ctx.store.db.selectFrom('groups');
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.name !== undefined) q = q.where(sql<boolean>`lower(name) like lower(${`%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}) escape '\\'`);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('name').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(groupFromRow), total: Number(total.n) };
}

async function findGroup(db: Db, name: string): Promise<Group | null> {
  const row = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? groupFromRow(row) : null;
}

export async function getGroup(ctx: Context, name: string): Promise<Group> {
  const g = await findGroup(ctx.store.db, name);
  if (!g) throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${name}" does not exist`, 'params.name');
  return g;
}

export interface NewGroup {
  name: string;
  comment?: string;
  criteria: Criterion[];
}

export async function createGroup(ctx: Context, input: NewGroup): Promise<Group> {
  checkUserGroupName(input.name, 'body.name');
  const criteria = checkCriteria(input.criteria, 'body.criteria');
  const now = ctx.now();
  await policyChange(ctx, async (tx) => {
    const exists = await tx.selectFrom('groups').select('name').where('name', '=', input.name).executeTakeFirst();
    if (exists) throw new MsegError('MSEG_ERR_CONFLICT', `group "${input.name}" already exists`, 'body.name');
    await tx
      .insertInto('groups')
      .values({ name: input.name, comment: input.comment ?? '', criteria: JSON.stringify(criteria), kind: 'user', mode: null, created_at: now, updated_at: now })
      .execute();
  });
  return getGroup(ctx, input.name);
}

export interface GroupPatch {
  /** Rename (user groups only); rules follow the new name. */
  name?: string;
  comment?: string;
  criteria?: Criterion[];
  /** Service groups only. */
  mode?: Mode;
}

export async function updateGroup(ctx: Context, name: string, patch: GroupPatch): Promise<Group> {
  const g = await getGroup(ctx, name);
  const rename = patch.name !== undefined && patch.name !== name;
  if (g.kind === 'reserved' && (rename || patch.criteria !== undefined)) {
    throw new MsegError('MSEG_ERR_RESERVED', `"${name}" is a reserved group: it cannot be renamed or given criteria`, rename ? 'body.name' : 'body.criteria');
  }
  if (g.kind === 'service' && (rename || patch.criteria !== undefined)) {
    throw new MsegError('MSEG_ERR_RESERVED', `"${name}" is a service group: its name and criteria follow the service`, rename ? 'body.name' : 'body.criteria');
  }
  if (patch.mode !== undefined && g.kind !== 'service') throw bad('body.mode', 'only service groups have a mode');
  if (rename) checkUserGroupName(patch.name as string, 'body.name');
  const criteria = patch.criteria === undefined ? undefined : checkCriteria(patch.criteria, 'body.criteria');
  const target = rename ? (patch.name as string) : name;
  await policyChange(ctx, async (tx) => {
    if (rename) {
      const taken = await tx.selectFrom('groups').select('name').where('name', '=', target).executeTakeFirst();
      if (taken) throw new MsegError('MSEG_ERR_CONFLICT', `group "${target}" already exists`, 'body.name');
    }
    const r = await tx
      .updateTable('groups')
      .set({
        ...(rename ? { name: target } : {}),
        ...(patch.comment !== undefined ? { comment: patch.comment } : {}),
        ...(criteria !== undefined ? { criteria: JSON.stringify(criteria) } : {}),
        ...(patch.mode !== undefined ? { mode: patch.mode } : {}),
        updated_at: ctx.now(),
      })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${name}" does not exist`, 'params.name');
    if (rename) {
      await tx.updateTable('rules').set({ from_group: target }).where('from_group', '=', name).execute();
      await tx.updateTable('rules').set({ to_group: target }).where('to_group', '=', name).execute();
    }
  });
  return getGroup(ctx, target);
}

export async function deleteGroup(ctx: Context, name: string): Promise<void> {
  const g = await getGroup(ctx, name);
  if (g.kind === 'reserved') throw new MsegError('MSEG_ERR_RESERVED', `"${name}" is a reserved group`, 'params.name');
  await policyChange(ctx, async (tx) => {
    const users = await tx
      .selectFrom('rules')
      .select('id')
      .where((eb) => eb.or([eb('from_group', '=', name), eb('to_group', '=', name)]))
      .orderBy('position')
      .execute();
    if (users.length > 0) {
      throw new MsegError('MSEG_ERR_IN_USE', `group "${name}" is used by rule(s) ${users.map((u) => Number(u.id)).join(', ')}`, 'params.name');
    }
    if (g.kind === 'service') {
      // The group would come back with the next report of the service's workloads, mode reset.
      const service = name.slice(SERVICE_PREFIX.length);
      const live = await tx.selectFrom('workloads').select('id').where('service', '=', service).where('state', '!=', 'stopped').executeTakeFirst();
      if (live) throw new MsegError('MSEG_ERR_IN_USE', `service group "${name}" still has running workloads`, 'params.name');
    }
    await tx.deleteFrom('groups').where('name', '=', name).execute();
  });
}

// ---- rules

export interface RuleFilter {
  /** Rules whose from or to is this group. */
  group?: string;
  from?: string;
  to?: string;
  action?: Action;
  enabled?: boolean;
  limit: number;
  offset: number;
}

export async function listRules(ctx: Context, f: RuleFilter): Promise<{ items: Rule[]; total: number }> {
  let q = ctx.store.db.selectFrom('rules');
  if (f.group !== undefined) {
    const g = f.group;
    q = q.where((eb) => eb.or([eb('from_group', '=', g), eb('to_group', '=', g)]));
  }
  if (f.from !== undefined) q = q.where('from_group', '=', f.from);
  if (f.to !== undefined) q = q.where('to_group', '=', f.to);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('position').orderBy('id').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(ruleFromRow), total: Number(total.n) };
}

/** Every rule in evaluation order. */
export async function allRules(db: Db): Promise<Rule[]> {
  const rows = await db.selectFrom('rules').selectAll().orderBy('position').orderBy('id').execute();
  return rows.map(ruleFromRow);
}

export async function getRule(ctx: Context, id: number): Promise<Rule> {
  const row = await ctx.store.db.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new MsegError('MSEG_ERR_NOT_FOUND', `rule ${id} does not exist`, 'params.id');
  return ruleFromRow(row);
}

export interface RuleInput {
  from: string;
  to: string;
  ports?: string;
  apps?: string[];
  action: Action;
  enabled?: boolean;
  comment?: string;
  /** Insert before this rule; default: after the last. */
  before?: number;
}

async function checkGroupsExist(tx: Db, refs: { field: string; name: string }[]): Promise<void> {
  for (const r of refs) {
    const g = await tx.selectFrom('groups').select('name').where('name', '=', r.name).executeTakeFirst();
    if (!g) throw bad(r.field, `group "${r.name}" does not exist`);
  }
}

/** A position before rule `before` (halfway to its predecessor), or after the last rule. */
async function positionFor(tx: Db, before: number | undefined): Promise<number> {
  if (before === undefined) {
    const last = await tx.selectFrom('rules').select(sql<number | null>`max(position)`.as('p')).executeTakeFirstOrThrow();
    return last.p === null ? 1 : Math.floor(Number(last.p)) + 1;
  }
  const target = await tx.selectFrom('rules').select('position').where('id', '=', before).executeTakeFirst();
  if (!target) throw bad('body.before', `rule ${before} does not exist`);
  const at = Number(target.position);
  const prev = await tx.selectFrom('rules').select(sql<number | null>`max(position)`.as('p')).where('position', '<', at).executeTakeFirstOrThrow();
  const lo = prev.p === null ? at - 1 : Number(prev.p);
  const mid = (lo + at) / 2;
  if (mid > lo && mid < at) return mid;
  // Halving ran out of precision after many inserts at one spot: renumber, then place.
  await renumber(tx);
  return positionFor(tx, before);
}

async function renumber(tx: Db): Promise<void> {
  const ids = await tx.selectFrom('rules').select('id').orderBy('position').orderBy('id').execute();
  for (let i = 0; i < ids.length; i++) await tx.updateTable('rules').set({ position: i + 1 }).where('id', '=', ids[i].id).execute();
}

export async function createRule(ctx: Context, input: RuleInput): Promise<Rule> {
  const ports = checkPorts(input.ports ?? 'any', 'body.ports');
  const apps = checkApps(input.apps ?? ['any'], 'body.apps');
  const now = ctx.now();
  const { result: id } = await policyChange(ctx, async (tx) => {
    await checkGroupsExist(tx, [
      { field: 'body.from', name: input.from },
      { field: 'body.to', name: input.to },
    ]);
    const position = await positionFor(tx, input.before);
    const row = await tx
      .insertInto('rules')
      .values({
        position,
        from_group: input.from,
        to_group: input.to,
        ports,
        apps: JSON.stringify(apps),
        action: input.action,
        enabled: input.enabled === false ? 0 : 1,
        comment: input.comment ?? '',
        hits: 0,
        last_hit: null,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  });
  return getRule(ctx, id);
}

export type RulePatch = Partial<Omit<RuleInput, 'before'>>;

export async function updateRule(ctx: Context, id: number, patch: RulePatch): Promise<Rule> {
  const ports = patch.ports === undefined ? undefined : checkPorts(patch.ports, 'body.ports');
  const apps = patch.apps === undefined ? undefined : checkApps(patch.apps, 'body.apps');
  await policyChange(ctx, async (tx) => {
    const refs = [];
    if (patch.from !== undefined) refs.push({ field: 'body.from', name: patch.from });
    if (patch.to !== undefined) refs.push({ field: 'body.to', name: patch.to });
    await checkGroupsExist(tx, refs);
    const r = await tx
      .updateTable('rules')
      .set({
        ...(patch.from !== undefined ? { from_group: patch.from } : {}),
        ...(patch.to !== undefined ? { to_group: patch.to } : {}),
        ...(ports !== undefined ? { ports } : {}),
        ...(apps !== undefined ? { apps: JSON.stringify(apps) } : {}),
        ...(patch.action !== undefined ? { action: patch.action } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        ...(patch.comment !== undefined ? { comment: patch.comment } : {}),
        updated_at: ctx.now(),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new MsegError('MSEG_ERR_NOT_FOUND', `rule ${id} does not exist`, 'params.id');
  });
  return getRule(ctx, id);
}

export async function deleteRule(ctx: Context, id: number): Promise<void> {
  await policyChange(ctx, async (tx) => {
    const r = await tx.deleteFrom('rules').where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new MsegError('MSEG_ERR_NOT_FOUND', `rule ${id} does not exist`, 'params.id');
  });
}

/** Sets the whole order: `ids` must name every rule exactly once. */
export async function reorderRules(ctx: Context, ids: number[]): Promise<Rule[]> {
  const seen = new Set<number>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw bad(`body.ids.${i}`, `rule ${id} is listed twice`);
    seen.add(id);
  });
  await policyChange(ctx, async (tx) => {
    const all = await tx.selectFrom('rules').select('id').execute();
    const known = new Set(all.map((r) => Number(r.id)));
    ids.forEach((id, i) => {
      if (!known.has(id)) throw bad(`body.ids.${i}`, `rule ${id} does not exist`);
    });
    const missing = [...known].filter((id) => !seen.has(id));
    if (missing.length > 0) throw bad('body.ids', `must list every rule; missing ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
    for (let i = 0; i < ids.length; i++) await tx.updateTable('rules').set({ position: i + 1 }).where('id', '=', ids[i]).execute();
  });
  return allRules(ctx.store.db);
}

/**
 * Adds counted hits from connection reports; not a policy change, so no revision bump and no
 * recompile. `hits` maps rule id → sessions and the time of the latest.
 */
export async function addRuleHits(db: Db, hits: Map<number, { count: number; last: number }>): Promise<void> {
  for (const [id, h] of hits) {
    if (id <= 0 || h.count <= 0) continue;
    await db
      .updateTable('rules')
      .set({
        hits: sql<number>`hits + ${h.count}`,
        last_hit: sql<number>`case when last_hit is null or last_hit < ${h.last} then ${h.last} else last_hit end`,
      })
      .where('id', '=', id)
      .execute();
  }
}
