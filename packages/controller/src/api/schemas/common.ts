/**
 * Schemas every route file shares: paging, the page envelope of list answers, the error body and
 * time windows. Lists answer `{ items, total, limit, offset }` so clients page without guessing.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

/** Spread into a querystring schema: `Type.Object({ ...Paging, host: … })`. */
export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `page size (1–${MAX_LIMIT})` }),
  offset: Type.Integer({ minimum: 0, default: 0, description: 'items to skip' }),
};

/** Spread into a querystring schema for endpoints over a time range (ms since the epoch). */
export const TimeWindow = {
  since: Type.Optional(Type.Integer({ minimum: 0, description: 'from this time, ms since the epoch' })),
  until: Type.Optional(Type.Integer({ minimum: 0, description: 'up to this time, ms since the epoch' })),
};

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ description: 'items matching the filters, over all pages' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'MSEG_ERR_* code' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the input at fault, e.g. body.ports' })),
  }),
});
export type ErrorSchema = Static<typeof ErrorSchema>;

/** Response schemas of the usual failures, for the OpenAPI document. */
export const ErrorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
};

/** Escapes LIKE wildcards so user text matches literally (used with `escape '\'`). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
