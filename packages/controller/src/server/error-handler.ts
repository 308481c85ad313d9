/**
 * One answer shape for every failure: `{ error: { code, message, field? } }` with the MSEG_ERR_*
 * code. Fastify's own errors (body too large, bad JSON, unknown media type) are translated to
 * coded ones; anything unexpected is logged and answered 500 without internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, isMsegError, type ErrorCode } from '../errors.js';
import type { Context } from './context.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

function body(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

export function errorHandler(ctx: Context) {
  return function handle(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
    if (isMsegError(err)) {
      if (ERRORS[err.code].status >= 500) ctx.log(`error: ${req.method} ${req.url.split('?')[0]}: ${err.message}: ${String(err.cause)}`);
      void reply.status(ERRORS[err.code].status).send(body(err.code, err.message, err.field));
      return;
    }
    const status = err.statusCode ?? 500;
    if (status === 413) {
      void reply.status(413).send(body('MSEG_ERR_BODY_TOO_LARGE', err.message));
    } else if (status === 415) {
      void reply.status(415).send(body('MSEG_ERR_UNSUPPORTED_MEDIA_TYPE', err.message));
    } else if (status === 404) {
      void reply.status(404).send(body('MSEG_ERR_NOT_FOUND', err.message));
    } else if (status >= 400 && status < 500) {
      // Malformed JSON, empty JSON body, bad content-length: the body as a whole is at fault.
      const field = err.code?.startsWith('FST_ERR_CTP_') ? 'body' : undefined;
      void reply.status(400).send(body('MSEG_ERR_VALIDATION', err.message, field));
    } else {
      ctx.log(`error: ${req.method} ${req.url.split('?')[0]}: ${err.stack ?? err.message}`);
      void reply.status(500).send(body('MSEG_ERR_INTERNAL', ERRORS.MSEG_ERR_INTERNAL.message));
    }
  };
}
