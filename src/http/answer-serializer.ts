import type { FastifyInstance } from 'fastify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as parsingSerializer } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AnswerCheck } from '../config.ts';
import { AppError } from '../core/errors.ts';

/** An answer its route's documented schema does not describe (only in `strict`): a 500 that says why. */
const answerMismatch = (method: string, url: string, problem: string) =>
  new AppError(
    'ANSWER_MISMATCH',
    `The answer of ${method} ${url} does not match its documented schema: ${problem}`,
  );

const unchecked: FastifySerializerCompiler<z.ZodType> = () => (data) => JSON.stringify(data);

const strict: FastifySerializerCompiler<z.ZodType> = ({ schema, method, url }) => {
  return (data) => {
    const text = JSON.stringify(data);
    // What the client receives, not the objects the view built (dates, undefined fields).
    const sent: unknown = text === undefined ? undefined : JSON.parse(text);
    const parsed = schema.safeParse(sent);
    if (!parsed.success) throw answerMismatch(method, url, parsed.error.message);
    const dropped = firstDroppedField(sent, parsed.data);
    if (dropped !== undefined) throw answerMismatch(method, url, `it has ${dropped}, the schema does not`);
    return text;
  };
};

/** The path of the first field of `sent` that parsing dropped (the schema does not name it), if any. */
function firstDroppedField(sent: unknown, parsed: unknown, path = '$'): string | undefined {
  if (Array.isArray(sent) && Array.isArray(parsed)) {
    for (const [index, item] of sent.entries()) {
      const dropped = firstDroppedField(item, parsed[index], `${path}[${index}]`);
      if (dropped !== undefined) return dropped;
    }
    return undefined;
  }
  if (!isObject(sent) || !isObject(parsed)) return undefined;
  for (const [key, value] of Object.entries(sent)) {
    if (!Object.hasOwn(parsed, key)) return `${path}.${key}`;
    const dropped = firstDroppedField(value, parsed[key], `${path}.${key}`);
    if (dropped !== undefined) return dropped;
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the server does with a JSON answer and its route's documented schema (ADR 0058,
 * `BULKCHANGE_ANSWER_CHECK`):
 * - `off` (the default): writes the answer as the view built it; the schema is documentation, checked by
 *   the tests. Views pick their fields one by one, so no field leaks without a schema pass.
 * - `strip`: the type provider's own serializer, a safety net: parses every answer and drops what the
 *   schema does not name (a field the schema forgot disappears from the answer). It costs time (ADR 0058).
 * - `strict`: the tests' check: an answer that breaks its schema, or carries a field the schema does not
 *   name, is a 500 naming the route and the field, so a test fails rather than a client.
 */
export const answerSerializer = (check: AnswerCheck): FastifySerializerCompiler<z.ZodType> =>
  check === 'off'
    ? unchecked
    : check === 'strict'
      ? strict
      : (parsingSerializer as FastifySerializerCompiler<z.ZodType>);

/**
 * In `strict`, a success a route gives without documenting its status is refused too (a 500): the
 * serializer never sees it, since Fastify writes an undocumented status unchecked.
 */
export function refuseUndocumentedSuccess(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const documented = (request.routeOptions.schema?.response ?? undefined) as
      | Record<string, unknown>
      | undefined;
    const status = reply.statusCode;
    if (documented === undefined || status >= 300 || Object.hasOwn(documented, String(status)))
      return payload;
    throw answerMismatch(
      request.method,
      request.routeOptions.url ?? request.url,
      `status ${status} is not documented`,
    );
  });
}
