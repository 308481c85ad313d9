/**
 * Server interceptors of the agent API: every call but Register must carry a valid agent
 * credential (the authenticated agent is handed to the handler as a context value), and the
 * controller's coded errors leave as gRPC status codes instead of INTERNAL.
 */
import { Code, ConnectError, createContextKey, type ContextValues, type Interceptor } from '@connectrpc/connect';
import { isMsegError } from '../errors.js';
import { authenticateAgent } from '../ingest/agents.js';
import type { Context } from '../server/context.js';
import type { Agent } from '../store/schema.js';

/** The caller of this RPC; set by the auth interceptor before any handler but Register runs. */
export const agentKey = createContextKey<Agent | null>(null, { description: 'authenticated agent' });

/** Methods that run without an agent credential (they take the join token instead). */
const PUBLIC_METHODS = new Set(['Register']);

export function toConnectError(err: unknown, log: (message: string) => void): unknown {
  if (err instanceof ConnectError) return err;
  if (isMsegError(err)) return new ConnectError(err.message, err.grpc, undefined, undefined, err);
  log(`grpc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return new ConnectError('internal error', Code.Internal);
}

async function* mapStreamErrors<T>(stream: AsyncIterable<T>, log: (message: string) => void): AsyncIterable<T> {
  try {
    yield* stream;
  } catch (err) {
    throw toConnectError(err, log);
  }
}

export function errorInterceptor(ctx: Context): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      return res.stream ? { ...res, message: mapStreamErrors(res.message, ctx.log) } : res;
    } catch (err) {
      throw toConnectError(err, ctx.log);
    }
  };
}

export function authInterceptor(ctx: Context): Interceptor {
  return (next) => async (req) => {
    if (!PUBLIC_METHODS.has(req.method.name)) {
      req.contextValues.set(agentKey, await authenticateAgent(ctx, req.header.get('authorization')));
    }
    return next(req);
  };
}

/** The authenticated agent of a call (the interceptor guarantees one for non-public methods). */
export function callerAgent(values: ContextValues): Agent {
  const agent = values.get(agentKey);
  if (!agent) throw new ConnectError('no agent credential', Code.Unauthenticated);
  return agent;
}
