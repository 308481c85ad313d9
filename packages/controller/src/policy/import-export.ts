/**
 * Policy as a document (YAML or JSON): user groups with their criteria, service groups with their
 * mode, and the rules in order. Import makes the store match the document and is idempotent: a
 * rule is matched to an existing one by id, else by content (from, to, ports, apps, action), so
 * importing the same document again finds nothing to change and does not bump the revision.
 *
 * mode `merge` (default) adds and updates; unmatched new rules go after the existing ones in
 * document order. mode `replace` also deletes rules the document does not list and sets the rule
 * order to the document's. Groups are never deleted by an import (rules elsewhere may use them).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';
import { CRITERION_KEYS, CRITERION_OPS, type Criterion, type Rule, SERVICE_PREFIX, groupFromRow, isReserved } from './model.js';
import { allRules } from './repository.js';
import { bumpPolicyRevision } from './revision.js';
import { defaultMode } from './service-groups.js';
import { checkApps, checkCriteria, checkPorts, checkUserGroupName } from './validate.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });

export const CriterionSchema = Type.Object(
  {
    key: Type.Union(CRITERION_KEYS.map((k) => Type.Literal(k))),
    op: Type.Union(CRITERION_OPS.map((o) => Type.Literal(o))),
    value: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const DocGroupSchema = Type.Object(
  {
    name: Name,
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
    criteria: Type.Optional(Type.Array(CriterionSchema, { maxItems: 64 })),
    mode: Type.Optional(Type.Union([Type.Literal('monitor'), Type.Literal('protect')])),
  },
  { additionalProperties: false },
);

export const DocRuleSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Name,
    to: Name,
    ports: Type.Optional(Type.String({ maxLength: 1024 })),
    apps: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
    action: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    enabled: Type.Optional(Type.Boolean()),
    comment: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const PolicyDocumentSchema = Type.Object(
  {
    version: Type.Literal(1),
    groups: Type.Array(DocGroupSchema, { maxItems: 10_000 }),
    rules: Type.Array(DocRuleSchema, { maxItems: 20_000 }),
  },
  { additionalProperties: false },
);
export type PolicyDocument = Static<typeof PolicyDocumentSchema>;

export async function exportPolicy(ctx: Context): Promise<PolicyDocument> {
  const db = ctx.store.db;
  const groups = (await db.selectFrom('groups').selectAll().where('kind', '!=', 'reserved').orderBy('name').execute()).map(groupFromRow);
  const rules = await allRules(db);
  return {
    version: 1,
    groups: groups.map((g) =>
      g.kind === 'service' ? { name: g.name, comment: g.comment, mode: g.mode ?? 'monitor' } : { name: g.name, comment: g.comment, criteria: g.criteria },
    ),
    rules: rules.map((r) => ({ id: r.id, from: r.from, to: r.to, ports: r.ports, apps: r.apps, action: r.action, enabled: r.enabled, comment: r.comment })),
  };
}

export interface ImportResult {
  groupsCreated: number;
  groupsUpdated: number;
  rulesCreated: number;
  rulesUpdated: number;
  rulesDeleted: number;
  /** Rule order rewritten (replace mode). */
  reordered: boolean;
  /** The new revision, or null when the document changed nothing. */
  revision: number | null;
}

interface NormalRule {
  id?: number;
  from: string;
  to: string;
  ports: string;
  apps: string[];
  action: 'allow' | 'deny';
  enabled: boolean;
  comment: string;
}

const contentKey = (r: Pick<NormalRule, 'from' | 'to' | 'ports' | 'apps' | 'action'>) => JSON.stringify([r.from, r.to, r.ports, r.apps, r.action]);

function bad(field: string, message: string): MsegError {
  return new MsegError('MSEG_ERR_VALIDATION', `${field}: ${message}`, field);
}

export async function importPolicy(ctx: Context, doc: PolicyDocument, mode: 'merge' | 'replace'): Promise<ImportResult> {
  // Validate everything before touching the store.
  const groups = doc.groups.map((g, i) => {
    const f = `body.groups.${i}`;
    if (isReserved(g.name)) {
      if (g.criteria !== undefined || g.mode !== undefined) throw bad(`${f}.name`, `"${g.name}" is a reserved group; it takes neither criteria nor mode`);
      return { kind: 'reserved' as const, name: g.name };
    }
    if (g.name.startsWith(SERVICE_PREFIX)) {
      if (g.criteria !== undefined) throw bad(`${f}.criteria`, 'service groups take no criteria: they hold the workloads of their service');
      if (g.name.length === SERVICE_PREFIX.length) throw bad(`${f}.name`, 'service group without a service name');
      return { kind: 'service' as const, name: g.name, comment: g.comment, mode: g.mode };
    }
    if (g.mode !== undefined) throw bad(`${f}.mode`, 'only service groups have a mode');
    checkUserGroupName(g.name, `${f}.name`);
    return { kind: 'user' as const, name: g.name, comment: g.comment ?? '', criteria: checkCriteria(g.criteria ?? [], `${f}.criteria`) };
  });
  const seenNames = new Set<string>();
  groups.forEach((g, i) => {
    if (seenNames.has(g.name)) throw bad(`body.groups.${i}.name`, `group "${g.name}" is listed twice`);
    seenNames.add(g.name);
  });
  const rules: NormalRule[] = doc.rules.map((r, i) => ({
    id: r.id,
    from: r.from,
    to: r.to,
    ports: checkPorts(r.ports ?? 'any', `body.rules.${i}.ports`),
    apps: checkApps(r.apps ?? ['any'], `body.rules.${i}.apps`),
    action: r.action,
    enabled: r.enabled ?? true,
    comment: r.comment ?? '',
  }));

  const result: ImportResult = { groupsCreated: 0, groupsUpdated: 0, rulesCreated: 0, rulesUpdated: 0, rulesDeleted: 0, reordered: false, revision: null };
  const now = ctx.now();
  const revision = await ctx.store.db.transaction().execute(async (tx: Kysely<Database>) => {
    const existing = new Map((await tx.selectFrom('groups').selectAll().execute()).map((r) => [r.name, groupFromRow(r)]));
    const fallbackMode = await defaultMode(tx);
    for (const [i, g] of groups.entries()) {
      const cur = existing.get(g.name);
      if (g.kind === 'reserved') continue;
      if (cur && cur.kind !== g.kind) throw new MsegError('MSEG_ERR_CONFLICT', `group "${g.name}" exists as a ${cur.kind} group`, `body.groups.${i}.name`);
      if (g.kind === 'user') {
        const criteria = JSON.stringify(g.criteria);
        if (!cur) {
          await tx.insertInto('groups').values({ name: g.name, comment: g.comment, criteria, kind: 'user', mode: null, created_at: now, updated_at: now }).execute();
          result.groupsCreated++;
        } else if (cur.comment !== g.comment || JSON.stringify(cur.criteria) !== criteria) {
          await tx.updateTable('groups').set({ comment: g.comment, criteria, updated_at: now }).where('name', '=', g.name).execute();
          result.groupsUpdated++;
        }
        existing.set(g.name, { ...(cur ?? { createdAt: now, updatedAt: now, kind: 'user', mode: null }), name: g.name, comment: g.comment, criteria: g.criteria as Criterion[] });
        continue;
      }
      const service = g.name.slice(SERVICE_PREFIX.length);
      if (!cur) {
        await tx
          .insertInto('groups')
          .values({
            name: g.name,
            comment: g.comment ?? `workloads of service ${service}`,
            criteria: JSON.stringify([{ key: 'service', op: '=', value: service }]),
            kind: 'service',
            mode: g.mode ?? fallbackMode,
            created_at: now,
            updated_at: now,
          })
          .execute();
        result.groupsCreated++;
        existing.set(g.name, { name: g.name, comment: '', criteria: [], kind: 'service', mode: g.mode ?? fallbackMode, createdAt: now, updatedAt: now });
      } else if ((g.mode !== undefined && g.mode !== cur.mode) || (g.comment !== undefined && g.comment !== cur.comment)) {
        await tx
          .updateTable('groups')
          .set({ ...(g.mode !== undefined ? { mode: g.mode } : {}), ...(g.comment !== undefined ? { comment: g.comment } : {}), updated_at: now })
          .where('name', '=', g.name)
          .execute();
        result.groupsUpdated++;
      }
    }
    rules.forEach((r, i) => {
      if (!existing.has(r.from)) throw bad(`body.rules.${i}.from`, `group "${r.from}" does not exist`);
      if (!existing.has(r.to)) throw bad(`body.rules.${i}.to`, `group "${r.to}" does not exist`);
    });

    const current = await allRules(tx);
    const byId = new Map(current.map((r) => [r.id, r]));
    const byContent = new Map<string, Rule[]>();
    for (const r of current) {
      const k = contentKey(r);
      byContent.set(k, [...(byContent.get(k) ?? []), r]);
    }
    const used = new Set<number>();
    const matched: (Rule | null)[] = rules.map((r) => {
      const hit = r.id !== undefined ? byId.get(r.id) : undefined;
      if (hit && !used.has(hit.id)) {
        used.add(hit.id);
        return hit;
      }
      return null;
    });
    // Content matching only after every id claim, so it never takes a rule that a later entry names by id.
    rules.forEach((r, i) => {
      if (matched[i]) return;
      const hit = (byContent.get(contentKey(r)) ?? []).find((c) => !used.has(c.id));
      if (hit) {
        used.add(hit.id);
        matched[i] = hit;
      }
    });

    let next = current.length === 0 ? 1 : Math.floor(current[current.length - 1].position) + 1;
    const finalIds: number[] = [];
    for (const [i, r] of rules.entries()) {
      const m = matched[i];
      if (m) {
        finalIds.push(m.id);
        if (contentKey(m) !== contentKey(r) || m.enabled !== r.enabled || m.comment !== r.comment) {
          await tx
            .updateTable('rules')
            .set({ from_group: r.from, to_group: r.to, ports: r.ports, apps: JSON.stringify(r.apps), action: r.action, enabled: r.enabled ? 1 : 0, comment: r.comment, updated_at: now })
            .where('id', '=', m.id)
            .execute();
          result.rulesUpdated++;
        }
        continue;
      }
      const row = await tx
        .insertInto('rules')
        .values({
          position: next++,
          from_group: r.from,
          to_group: r.to,
          ports: r.ports,
          apps: JSON.stringify(r.apps),
          action: r.action,
          enabled: r.enabled ? 1 : 0,
          comment: r.comment,
          hits: 0,
          last_hit: null,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      finalIds.push(Number(row.id));
      result.rulesCreated++;
    }
    if (mode === 'replace') {
      const stale = current.filter((r) => !used.has(r.id)).map((r) => r.id);
      for (let i = 0; i < stale.length; i += 500) await tx.deleteFrom('rules').where('id', 'in', stale.slice(i, i + 500)).execute();
      result.rulesDeleted = stale.length;
      const order = (await allRules(tx)).map((r) => r.id);
      if (order.some((id, i) => id !== finalIds[i])) {
        for (let i = 0; i < finalIds.length; i++) await tx.updateTable('rules').set({ position: i + 1 }).where('id', '=', finalIds[i]).execute();
        result.reordered = true;
      }
    }
    const changed = result.groupsCreated + result.groupsUpdated + result.rulesCreated + result.rulesUpdated + result.rulesDeleted > 0 || result.reordered;
    return changed ? bumpPolicyRevision(tx) : null;
  });
  result.revision = revision;
  if (revision !== null) ctx.events.emit('policy', { revision });
  return result;
}
