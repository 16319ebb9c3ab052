import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * Rev.io's REST API as Rev.io publishes it (developers.rev.io: Basic Authentication, postv1_services,
 * putv1_serviceproduct_id and the list endpoints), behind its API-management gateway, which wants the
 * subscription key on every call. Bodies are snake_case; requests are strict.
 */
const auth = z.object({
  authorization: z.string().regex(/^Basic \S+$/),
  'ocp-apim-subscription-key': z.string().min(1),
});
const json = auth.extend({ 'content-type': z.string().startsWith('application/json') });
/** Rev.io dates are `yyyy-MM-ddZ` (the original sent them so) or ISO date-times. */
const revioDate = z.string().regex(/^\d{4}-\d\d-\d\d(Z|T.*)$/);
const id = z.number().int().positive();
const createResponse = z.object({ id: z.number().int(), ok: z.literal(true) }).loose();
const list = (item: z.ZodType) =>
  z.object({ records: z.array(item), record_count: z.number().int() }).loose();
const paging = {
  page: z.coerce.number().int().min(1).optional(),
  page_size: z.coerce.number().int().min(1).optional(),
};
const serviceStatuses = ['ACTIVE', 'PENDING', 'DISCONNECTED', 'SUSPENDED'] as const;

export const revioContract: Contract = {
  carrier: 'revio',
  // Rev.io's own: an array of CreateResponse objects; the gateway's: `{statusCode, message}`.
  errors: z.union([
    z
      .array(
        z
          .object({ ok: z.literal(false), error: z.string().nullish(), message: z.string().nullish() })
          .loose(),
      )
      .min(1),
    z.object({ statusCode: z.number().int(), message: z.string() }),
  ]),
  operations: [
    {
      name: 'list_customers',
      method: 'GET',
      path: '/v1/Customers',
      source: 'Rev.io REST reference: GET /v1/Customers',
      client: true,
      headers: auth,
      query: z.strictObject(paging),
      responses: {
        200: list(z.object({ customer_id: z.number().int(), name: z.string(), status: z.string() }).loose()),
      },
    },
    {
      name: 'list_services',
      method: 'GET',
      path: '/v1/Services',
      source: 'Rev.io REST reference: GET /v1/Services (search.* filters)',
      client: true,
      headers: auth,
      query: z.strictObject({
        ...paging,
        'search.customer_id': z.string().regex(/^\d+$/).optional(),
        'search.number': z.string().optional(),
        'search.number2': z.string().optional(),
        'search.status': z.enum(serviceStatuses).optional(),
      }),
      responses: {
        200: list(
          z
            .object({
              service_id: z.number().int(),
              customer_id: z.number().int(),
              number: z.string().nullish(),
              number2: z.string().nullish(),
              status: z.enum(serviceStatuses),
            })
            .loose(),
        ),
      },
    },
    {
      name: 'get_service',
      method: 'GET',
      path: '/v1/Services/:id',
      source:
        'Rev.io REST reference: GET /v1/Services/{id}; custom fields as fields: [{field_id, label, value}] (unconfirmed, docs/billing.md)',
      client: true,
      headers: auth,
      responses: {
        200: z
          .object({
            service_id: z.number().int(),
            customer_id: z.number().int(),
            status: z.enum(serviceStatuses),
            fields: z.array(
              z
                .object({ field_id: z.number().int(), label: z.string(), value: z.string().nullable() })
                .loose(),
            ),
          })
          .loose(),
      },
    },
    {
      name: 'create_service',
      method: 'POST',
      path: '/v1/Services',
      source: 'postv1_services (customer_id and provider_id required)',
      client: true,
      headers: json,
      request: z.strictObject({
        customer_id: id,
        provider_id: id,
        service_type_id: id.optional(),
        package_id: id.optional(),
        number: z.string().optional(),
        number2: z.string().optional(),
        usage_plan_group_id: id.optional(),
        effective_date: revioDate.optional(),
        activated_date: revioDate.optional(),
        disconnected_date: revioDate.optional(),
        description: z.string().optional(),
        address_id: id.optional(),
      }),
      responses: { 200: createResponse, 201: createResponse },
    },
    {
      name: 'update_service',
      method: 'PATCH',
      path: '/v1/Services/:id',
      source: 'Rev.io PATCH with JSON-Patch (application/json-patch+json)',
      client: true,
      headers: auth.extend({ 'content-type': z.string().startsWith('application/json-patch+json') }),
      request: z
        .array(
          z.strictObject({
            op: z.enum(['replace', 'add', 'remove']),
            path: z.string().startsWith('/'),
            value: z.unknown(),
          }),
        )
        .min(1),
      responses: { 200: createResponse },
    },
    {
      name: 'list_service_products',
      method: 'GET',
      path: '/v1/ServiceProduct',
      source: 'Rev.io REST reference: GET /v1/ServiceProduct',
      client: true,
      headers: auth,
      query: z.strictObject({ ...paging, 'search.service_id': z.string().regex(/^\d+$/).optional() }),
      responses: {
        200: list(
          z
            .object({
              service_product_id: z.number().int(),
              product_id: z.number().int(),
              status: z.string(),
            })
            .loose(),
        ),
      },
    },
    {
      name: 'create_service_product',
      method: 'POST',
      path: '/v1/ServiceProduct',
      source: 'putv1_serviceproduct_id fields: product_id, service_id, customer_id, rate, quantity, status',
      client: true,
      headers: json,
      request: z.strictObject({
        service_id: id,
        product_id: id,
        customer_id: id,
        rate: z.number().nonnegative().optional(),
        quantity: z.number().int().positive(),
        status: z.enum(['PENDING', 'ACTIVE', 'DENIED', 'DISCONNECTED']),
        generate_proration: z.boolean().optional(),
        effective_date: revioDate.optional(),
        package_id: id.optional(),
      }),
      responses: { 200: createResponse, 201: createResponse },
    },
  ],
};
