/**
 * Agents: registration with the join token, the credential each agent presents afterwards,
 * heartbeats, online/offline after missed heartbeats, and revocation.
 *
 * The agents table has no column for the credential, so its SHA-256 and the last heartbeat's
 * status live in the `config` key/value table (`agent_credential.<id>`, `agent_status.<id>`);
 * the secret itself is never stored.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import type { Agent } from '../store/schema.js';

/** Seconds between an agent's heartbeats and connection reports (the DP's 5 s interval). */
export const REPORT_INTERVAL_SECONDS = 5;
/** An online agent that sent no heartbeat for this many intervals is marked offline. */
export const MISSED_HEARTBEATS = 3;

const credentialKey = (id: string): string => `agent_credential.${id}`;
/** The config row holding an agent's last heartbeat status (api/agents.ts reads it for a page at once). */
export const statusKey = (id: string): string => `agent_status.${id}`;

export interface Registration {
  host: string;
  version: string;
  /** Id from an earlier registration, '' for none. */
  previousAgentId: string;
}

/** What the last heartbeat said, as kept for the API. */
export interface AgentStatus {
  at: number;
  policyRevision: number;
  workloads: number;
  protectedWorkloads: number;
  dataPlane: { running: boolean; restarts: number; packets: number; drops: number; sessions: number };
  problems: string[];
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function checkText(value: string, field: string, max: number, required: boolean): void {
  if (required && value.length === 0) throw new MsegError('MSEG_ERR_VALIDATION', `${field} is required`, field);
  if (value.length > max) throw new MsegError('MSEG_ERR_VALIDATION', `${field} is longer than ${max} characters`, field);
}

/**
 * Registers an agent (the caller has checked the join token) and issues a new credential. An agent
 * that names its previous id keeps it, unless that id was revoked; an id the store does not know
 * (a wiped store) is replaced by a new one, so ids are always issued here.
 */
export async function registerAgent(ctx: Context, reg: Registration): Promise<{ agentId: string; credential: string }> {
  checkText(reg.host, 'host', 253, true);
  checkText(reg.version, 'agent_version', 64, false);
  checkText(reg.previousAgentId, 'previous_agent_id', 64, false);
  const secret = randomBytes(32).toString('base64url');
  const hash = JSON.stringify(sha256(secret).toString('hex'));
  const now = ctx.now();
  const agentId = await ctx.store.db.transaction().execute(async (tx) => {
    const previous = reg.previousAgentId
      ? await tx.selectFrom('agents').select(['id', 'state']).where('id', '=', reg.previousAgentId).executeTakeFirst()
      : undefined;
    if (previous?.state === 'revoked') {
      throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED', `agent ${previous.id} was revoked`);
    }
    const id = previous?.id ?? randomUUID();
    if (previous) {
      await tx
        .updateTable('agents')
        .set({ host: reg.host, version: reg.version, state: 'online', last_seen: now })
        .where('id', '=', id)
        .execute();
    } else {
      await tx
        .insertInto('agents')
        .values({ id, host: reg.host, version: reg.version, state: 'online', registered_at: now, last_seen: now, policy_revision: 0 })
        .execute();
    }
    await tx
      .insertInto('config')
      .values({ key: credentialKey(id), value: hash })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: hash }))
      .execute();
    return id;
  });
  ctx.events.emit('agents', { agentId, state: 'online' });
  return { agentId, credential: secret };
}

/**
 * Checks `authorization: Bearer <agentId>.<secret>` against the stored hash. Unknown agents, a
 * wrong or missing credential and revoked agents all fail the same way, so a caller learns
 * nothing about which agent ids exist.
 */
export async function authenticateAgent(ctx: Context, authorization: string | null): Promise<Agent> {
  const m = /^Bearer ([0-9a-f-]{1,64})\.([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? '');
  if (!m) throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED');
  const [, id, secret] = m;
  const row = await ctx.store.db
    .selectFrom('agents')
    .leftJoin('config', (j) => j.on('config.key', '=', credentialKey(id)))
    .selectAll('agents')
    .select('config.value as credential')
    .where('agents.id', '=', id)
    .executeTakeFirst();
  const given = sha256(secret);
  const stored = row?.credential ? Buffer.from(JSON.parse(row.credential) as string, 'hex') : Buffer.alloc(given.length);
  // Compare even when the agent is unknown so timing does not tell unknown from wrong.
  const match = timingSafeEqual(given, stored.length === given.length ? stored : Buffer.alloc(given.length));
  if (!row || !row.credential || !match || row.state === 'revoked') throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED');
  const { credential: _credential, ...agent } = row;
  return { ...agent, registered_at: Number(agent.registered_at), last_seen: Number(agent.last_seen), policy_revision: Number(agent.policy_revision) };
}

/** Records a heartbeat: the agent is online, and its status is kept for the API. */
export async function recordHeartbeat(ctx: Context, agent: Agent, status: Omit<AgentStatus, 'at'>): Promise<void> {
  const now = ctx.now();
  const value = JSON.stringify({ at: now, ...status } satisfies AgentStatus);
  await ctx.store.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('agents')
      .set({ state: 'online', last_seen: now, policy_revision: status.policyRevision })
      .where('id', '=', agent.id)
      .where('state', '!=', 'revoked')
      .execute();
    await tx
      .insertInto('config')
      .values({ key: statusKey(agent.id), value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  });
  if (agent.state !== 'online') ctx.events.emit('agents', { agentId: agent.id, state: 'online' });
}

/** The last heartbeat's status of an agent, or null before its first heartbeat. */
export async function agentStatus(ctx: Context, agentId: string): Promise<AgentStatus | null> {
  const row = await ctx.store.db.selectFrom('config').select('value').where('key', '=', statusKey(agentId)).executeTakeFirst();
  return row ? (JSON.parse(row.value) as AgentStatus) : null;
}

/** Records the policy revision an agent says it has applied (watch stream resume point). */
export async function recordPolicyRevision(ctx: Context, agentId: string, revision: number): Promise<void> {
  await ctx.store.db.updateTable('agents').set({ policy_revision: revision }).where('id', '=', agentId).execute();
}

/** Marks online agents silent for MISSED_HEARTBEATS intervals offline; returns their ids. */
export async function markOfflineAgents(ctx: Context): Promise<string[]> {
  const cutoff = ctx.now() - MISSED_HEARTBEATS * REPORT_INTERVAL_SECONDS * 1000;
  const rows = await ctx.store.db
    .updateTable('agents')
    .set({ state: 'offline' })
    .where('state', '=', 'online')
    .where('last_seen', '<', cutoff)
    .returning('id')
    .execute();
  for (const r of rows) ctx.events.emit('agents', { agentId: r.id, state: 'offline' });
  return rows.map((r) => r.id);
}

/**
 * Revokes an agent: every later call with its credential, and its open policy stream, fail with
 * UNAUTHENTICATED, and it cannot register again under its id. The credential hash is deleted.
 */
export async function revokeAgent(ctx: Context, agentId: string): Promise<void> {
  const found = await ctx.store.db.transaction().execute(async (tx) => {
    const r = await tx.updateTable('agents').set({ state: 'revoked' }).where('id', '=', agentId).executeTakeFirst();
    await tx.deleteFrom('config').where('key', '=', credentialKey(agentId)).execute();
    return r.numUpdatedRows > 0n;
  });
  if (!found) throw new MsegError('MSEG_ERR_NOT_FOUND', `no agent ${agentId}`);
  ctx.events.emit('agents', { agentId, state: 'revoked' });
}
