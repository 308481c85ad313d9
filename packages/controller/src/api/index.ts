/**
 * The REST route plugins, mounted under /api/v1 in this order. Each file is one concern; to add
 * one, import it and append it to the list. A plugin receives `{ ctx }` in its options.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Context } from '../server/context.js';
import agents from './agents.js';
import agentsRevoke from './agents-revoke.js';
import auth from './auth.js';
import events from './events.js';
import groups from './groups.js';
import policies from './policies.js';
import system from './system.js';
import workloads from './workloads.js';
import connections from './connections.js';
import graph from './graph.js';
import stats from './stats.js';
import threats from './threats.js';
import violations from './violations.js';

export type ApiPlugin = FastifyPluginAsyncTypebox<{ ctx: Context }>;

export const apiPlugins: ApiPlugin[] = [
  auth,
  system,
  agents,
  agentsRevoke,
  workloads,
  events,
  groups,
  policies,
  connections,
  graph,
  violations,
  threats,
  stats,
];
