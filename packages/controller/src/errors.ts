/**
 * The controller's coded errors (fastify's errors.js idea): one registry, code = key, an HTTP
 * status for REST and a gRPC code for the agent API. Callers and tests match `.code`.
 */
import { Code } from '@connectrpc/connect';

interface ErrorDef {
  status: number;
  grpc: Code;
  message: string;
}

export const ERRORS = {
  MSEG_ERR_AUTH_REQUIRED: { status: 401, grpc: Code.Unauthenticated, message: 'authentication required' },
  MSEG_ERR_AUTH_BAD_CREDENTIALS: { status: 401, grpc: Code.Unauthenticated, message: 'wrong username or password' },
  MSEG_ERR_AUTH_RATE_LIMITED: { status: 429, grpc: Code.ResourceExhausted, message: 'too many failed logins; retry later' },
  MSEG_ERR_AUTH_FORBIDDEN: { status: 403, grpc: Code.PermissionDenied, message: 'this role may not change anything' },
  MSEG_ERR_AGENT_UNAUTHENTICATED: { status: 401, grpc: Code.Unauthenticated, message: 'unknown, revoked or wrongly authenticated agent' },
  MSEG_ERR_VALIDATION: { status: 400, grpc: Code.InvalidArgument, message: 'invalid input' },
  MSEG_ERR_NOT_FOUND: { status: 404, grpc: Code.NotFound, message: 'not found' },
  MSEG_ERR_CONFLICT: { status: 409, grpc: Code.AlreadyExists, message: 'already exists' },
  MSEG_ERR_RESERVED: { status: 409, grpc: Code.FailedPrecondition, message: 'reserved object cannot be changed' },
  MSEG_ERR_IN_USE: { status: 409, grpc: Code.FailedPrecondition, message: 'still referenced' },
  MSEG_ERR_BODY_TOO_LARGE: { status: 413, grpc: Code.ResourceExhausted, message: 'request body too large' },
  MSEG_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, grpc: Code.InvalidArgument, message: 'unsupported content type' },
  MSEG_ERR_CORS_REFUSED: { status: 403, grpc: Code.PermissionDenied, message: 'cross-origin requests are not allowed' },
  MSEG_ERR_INTERNAL: { status: 500, grpc: Code.Internal, message: 'internal error' },
  MSEG_ERR_STORE_UNAVAILABLE: { status: 503, grpc: Code.Unavailable, message: 'the store does not answer' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export class MsegError extends Error {
  readonly status: number;
  readonly grpc: Code;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** The input field at fault, for validation errors (e.g. "body.ports"). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'MsegError';
    this.status = ERRORS[code].status;
    this.grpc = ERRORS[code].grpc;
  }
}

export function isMsegError(e: unknown): e is MsegError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code in ERRORS;
}
