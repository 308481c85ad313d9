/**
 * Request validation with TypeBox's compiled checker instead of Fastify's default ajv setup: ajv
 * there runs with removeAdditional (unknown fields silently dropped) and coerceTypes (a number sent
 * as "80" accepted) on bodies. Here bodies are checked as sent and unknown fields are refused;
 * query strings and path params are converted from text first, since they arrive as strings.
 * The first error becomes an MsegError naming the field, e.g. `body.ports` or `query.limit`.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { MsegError } from '../errors.js';

const PARTS: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

function describe(e: ValueError): string {
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    case ValueErrorType.ObjectRequiredProperty:
      return 'required';
    case ValueErrorType.Union: {
      const consts = (e.schema.anyOf as TSchema[] | undefined)?.map((s) => s.const as unknown);
      if (consts && consts.every((c) => c !== undefined)) return `must be one of ${consts.join(', ')}`;
      return e.message;
    }
    default:
      return e.message.charAt(0).toLowerCase() + e.message.slice(1);
  }
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const part = PARTS[httpPart ?? 'body'] ?? httpPart ?? 'body';
  return (input: unknown) => {
    const value = httpPart === 'body' ? Value.Default(schema, input) : Value.Default(schema, Value.Convert(schema, input));
    if (check.Check(value)) return { value };
    const first = check.Errors(value).First()!;
    const field = part + first.path.replaceAll('/', '.');
    return { error: new MsegError('MSEG_ERR_VALIDATION', `${field}: ${describe(first)}`, field) };
  };
};
