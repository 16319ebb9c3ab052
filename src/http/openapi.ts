import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorDetailSchema } from '../core/errors.ts';

/** Where the demo mounts its carrier and billing simulators (ADR 0006): `/simulators/<key>`. */
export const SIMULATORS_PREFIX = '/simulators/';

/** The one error shape of every 4xx and 5xx answer (API §1, docs/errors.md). */
const errorBody = (description: string) =>
  z
    .object({
      error: z.object({
        code: z.string().describe('A stable code of docs/errors.md'),
        message: z.string(),
        details: z.array(errorDetailSchema).optional(),
      }),
    })
    .describe(description);

type Route = Parameters<typeof jsonSchemaTransform>[0];

/**
 * The error answers a route really gives, from what it takes: every `/api/v1` route checks the key
 * (401, throttled: 429) and its role (403); a route naming a resource answers 404 for another
 * tenant's; a body or query is checked (422); a body may be malformed (400) or too large (413).
 */
function errorResponses(route: Route): Record<number, z.ZodType> {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const responses: Record<number, z.ZodType> = {};
  if (route.url.startsWith('/api/v1/')) {
    responses[401] = errorBody('UNAUTHENTICATED: no valid API key');
    responses[403] = errorBody("FORBIDDEN: the key's role is too low");
    responses[429] = errorBody('TOO_MANY_REQUESTS: too many failed authentications; see Retry-After');
  }
  if (route.url.includes(':')) {
    responses[404] = errorBody('NOT_FOUND: not in your tenant');
  }
  if (schema.body || schema.querystring || schema.params) {
    responses[422] = errorBody('VALIDATION_FAILED (or another 422 code): `details` lists each problem');
  }
  if (schema.body) {
    responses[400] = errorBody('BAD_REQUEST: the body is not valid JSON');
    responses[413] = errorBody('PAYLOAD_TOO_LARGE');
  }
  return responses;
}

/**
 * The OpenAPI document covers the product API only: the demo's carrier simulators, mounted in the same
 * app (ADR 0006), answer as the carriers do and are documented with them (ADR 0054). Each product
 * route documents the error answers it gives beside its own success answers (ADR 0058).
 */
export const productRoutesOnly: typeof jsonSchemaTransform = (route) => {
  if (route.url.startsWith(SIMULATORS_PREFIX)) {
    return { schema: { ...route.schema, hide: true }, url: route.url };
  }
  const schema = route.schema as Record<string, unknown> | undefined;
  const own = (schema?.response ?? {}) as Record<number, unknown>;
  const transformed = jsonSchemaTransform({
    ...route,
    schema: { ...schema, response: { ...errorResponses(route), ...own } },
  } as Route);
  const responses = (transformed.schema as { response?: Record<number, unknown> }).response;
  // A 204 has no body: a null schema is what @fastify/swagger renders as none.
  if (responses?.[204]) responses[204] = { type: 'null', description: 'No content' };
  return transformed;
};

/**
 * The document's components: the answer schemas with an id (`.meta({ id })`: a bulk change, a row, …),
 * referred to by `$ref`. The type provider also writes an input twin of each (`…Input`); no request
 * takes one, so those nobody refers to are left out.
 */
export const productComponents: typeof jsonSchemaTransformObject = (document) => {
  const transformed = jsonSchemaTransformObject(document) as {
    components?: { schemas?: Record<string, unknown> };
  };
  const schemas = transformed.components?.schemas ?? {};
  const text = JSON.stringify(transformed);
  for (const name of Object.keys(schemas)) {
    if (name.endsWith('Input') && !text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
  }
  return transformed as ReturnType<typeof jsonSchemaTransformObject>;
};
