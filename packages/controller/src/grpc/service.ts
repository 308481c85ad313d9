/**
 * AgentService: what each RPC does with the store. Authentication is the interceptor's job
 * (auth.ts); this file maps messages to ingest calls and answers only after they committed.
 */
import type { ConnectRouter, MethodImpl, ServiceImpl } from '@connectrpc/connect';
import type { DescMethodUnary } from '@bufbuild/protobuf';
import { AgentService, ReportConnectionsRequestEncodedSchema, type ReportConnectionsResponseSchema } from '@mseg/proto';
import { MsegError } from '../errors.js';
import { REPORT_INTERVAL_SECONDS, recordHeartbeat, registerAgent } from '../ingest/agents.js';
import { ingestConnections, type ReportId } from '../ingest/connections.js';
import { ingestThreats } from '../ingest/threats.js';
import { ingestViolations } from '../ingest/violations.js';
import { ingestWorkloads } from '../ingest/workloads.js';
import { currentRevision } from '../policy/revision.js';
import type { Context } from '../server/context.js';
import { callerAgent } from './auth.js';
import { decodeConnection } from './connection-wire.js';
import { threatFromProto, violationFromProto, workloadFromProto } from './convert.js';
import { joinTokenMatches } from './join-token.js';
import { Turns } from './turns.js';
import { watchPolicy } from './watch.js';

/** Records in one report at most; an agent's bounded queue sends less. */
export const MAX_RECORDS_PER_REPORT = 50_000;

function checkBatch(batchId: string, count: number, field: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(batchId)) {
    throw new MsegError('MSEG_ERR_VALIDATION', 'batch_id must be 1-128 of [A-Za-z0-9_.:-]', 'batch_id');
  }
  if (count > MAX_RECORDS_PER_REPORT) throw new MsegError('MSEG_ERR_VALIDATION', `more than ${MAX_RECORDS_PER_REPORT} ${field}`, field);
}

/**
 * Runs a report once per (agent, batch id). A batch already stored is acknowledged as a duplicate
 * without ingesting it again; one still being ingested by this controller (the agent gave up
 * waiting and resent) waits for that first attempt instead of racing it.
 */
function batches(ctx: Context) {
  const inFlight = new Map<string, Promise<boolean>>();
  async function once(agentId: string, batchId: string, work: (report: ReportId) => Promise<void>): Promise<boolean> {
    const seen = await ctx.store.db
      .selectFrom('report_batches')
      .select('batch_id')
      .where('agent_id', '=', agentId)
      .where('batch_id', '=', batchId)
      .executeTakeFirst();
    if (seen) return true;
    // The ingest records the batch id in the transaction that stores the report's rows, so a
    // crash leaves the report either stored and known or neither (the agent then resends it).
    await work({ agentId, batchId });
    return false;
  }
  return async (agentId: string, batchId: string, work: (report: ReportId) => Promise<void>): Promise<boolean> => {
    const key = `${agentId}\n${batchId}`;
    const running = inFlight.get(key);
    if (running) return running.then(() => true);
    const p = once(agentId, batchId, work);
    inFlight.set(key, p);
    try {
      return await p;
    } finally {
      inFlight.delete(key);
    }
  };
}

/**
 * ReportConnections as the controller reads it: the same method (path, response), its request
 * read as ReportConnectionsRequestEncoded, whose connections connection-wire.ts decodes.
 */
export const reportConnectionsEncoded: DescMethodUnary<typeof ReportConnectionsRequestEncodedSchema, typeof ReportConnectionsResponseSchema> = {
  ...AgentService.method.reportConnections,
  input: ReportConnectionsRequestEncodedSchema,
};

type AgentServiceImpl = Omit<ServiceImpl<typeof AgentService>, 'reportConnections'> & { reportConnections: MethodImpl<typeof reportConnectionsEncoded> };

/** Adds every AgentService method to the router, ReportConnections through its encoded view. */
export function routeAgentService(router: ConnectRouter, ctx: Context, joinToken: string): ConnectRouter {
  const impl = agentService(ctx, joinToken);
  const m = AgentService.method;
  return router
    .rpc(m.register, impl.register)
    .rpc(m.heartbeat, impl.heartbeat)
    .rpc(m.reportWorkloads, impl.reportWorkloads)
    .rpc(reportConnectionsEncoded, impl.reportConnections)
    .rpc(m.reportThreats, impl.reportThreats)
    .rpc(m.reportViolations, impl.reportViolations)
    .rpc(m.watchPolicy, impl.watchPolicy);
}

function agentService(ctx: Context, joinToken: string): AgentServiceImpl {
  const onceper = batches(ctx);
  const turns = new Turns();
  return {
    async register(req) {
      if (!joinTokenMatches(joinToken, req.joinToken)) throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED', 'wrong join token');
      const { agentId, credential } = await registerAgent(ctx, {
        host: req.host,
        version: req.agentVersion,
        previousAgentId: req.previousAgentId,
      });
      return { agentId, credential, reportIntervalSeconds: REPORT_INTERVAL_SECONDS };
    },

    async heartbeat(req, call) {
      const agent = callerAgent(call.values);
      const dp = req.dataPlane;
      await recordHeartbeat(ctx, agent, {
        policyRevision: Number(req.policyRevision),
        workloads: req.workloads,
        protectedWorkloads: req.protectedWorkloads,
        dataPlane: {
          running: dp?.running ?? false,
          restarts: dp?.restarts ?? 0,
          packets: Number(dp?.packets ?? 0n),
          drops: Number(dp?.drops ?? 0n),
          sessions: Number(dp?.sessions ?? 0n),
        },
        problems: req.problems.slice(0, 32).map((p) => p.slice(0, 512)),
      });
      return { reportIntervalSeconds: REPORT_INTERVAL_SECONDS, policyRevision: BigInt(await currentRevision(ctx)) };
    },

    async reportWorkloads(req, call) {
      const agent = callerAgent(call.values);
      const changed = await ingestWorkloads(ctx, agent.id, agent.host, {
        full: req.full,
        workloads: req.workloads.map(workloadFromProto),
        removedIds: req.removedIds,
      });
      return { changed: changed.length };
    },

    async reportConnections(req, call) {
      const agent = callerAgent(call.values);
      checkBatch(req.batchId, req.connections.length + req.dnsAnswers.length, 'connections');
      const dns = req.dnsAnswers.map((a) => ({ name: a.name, ip: a.ip }));
      const duplicate = await onceper(agent.id, req.batchId, async (report) => {
        // The costly part (decode, resolve, encode for the writer) in a turn of its own.
        await turns.next();
        await ingestConnections(ctx, agent.id, agent.host, req.connections.map(decodeConnection), dns, report);
      });
      return { duplicate };
    },

    async reportThreats(req, call) {
      const agent = callerAgent(call.values);
      checkBatch(req.batchId, req.threats.length, 'threats');
      const items = req.threats.map(threatFromProto);
      return { duplicate: await onceper(agent.id, req.batchId, (report) => ingestThreats(ctx, agent.id, items, report)) };
    },

    async reportViolations(req, call) {
      const agent = callerAgent(call.values);
      checkBatch(req.batchId, req.violations.length, 'violations');
      const items = req.violations.map(violationFromProto);
      return { duplicate: await onceper(agent.id, req.batchId, (report) => ingestViolations(ctx, agent.id, items, report)) };
    },

    async *watchPolicy(req, call) {
      const agent = callerAgent(call.values);
      if (req.agentId !== agent.id) throw new MsegError('MSEG_ERR_AGENT_UNAUTHENTICATED', "agent_id is not the credential's agent");
      yield* watchPolicy(ctx, agent.id, Number(req.revision), call.signal);
    },
  };
}
