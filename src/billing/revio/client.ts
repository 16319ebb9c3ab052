import { z } from 'zod';
import type { CallContext } from '../../carriers/http/call.ts';
import type { CarrierHttpClient } from '../../carriers/http/client.ts';
import type { CarrierHttpOptions } from '../../carriers/http/factory.ts';

export const revioCredentialsSchema = z.object({
  /** `login@clientcode`, as Rev.io's Basic auth wants it. */
  username: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'The Rev.io user is login@clientcode'),
  password: z.string().min(1),
  /**
   * The API-management subscription key, sent as `Ocp-Apim-Subscription-Key` on every call beside
   * Basic auth: Rev.io's gateway refuses a call without it before Rev.io sees the credentials.
   */
  subscriptionKey: z.string().trim().min(1),
});
export type RevioCredentials = z.infer<typeof revioCredentialsSchema>;

/** The gateway's header for the subscription key (Azure API Management's name). */
export const REVIO_SUBSCRIPTION_KEY_HEADER = 'ocp-apim-subscription-key';

export const revioSettingsSchema = z
  .object({
    /** The Rev.io provider id each carrier's services are created under. */
    providerIds: z.record(z.string(), z.number().int().positive()).default({}),
    defaultProviderId: z.number().int().positive().optional(),
    /**
     * Per billing customer id, the customer rate plan and pool a line takes when a status change moves
     * it to that customer (`moveBillingCustomer`; the original's default customer rate plans).
     */
    customerDefaults: z
      .record(
        z.string(),
        z.object({
          customerRatePlanId: z.string().trim().min(1).max(64).optional(),
          customerPoolId: z.string().trim().min(1).max(64).optional(),
        }),
      )
      .optional(),
    /** Over the defaults: Rev.io publishes no limits, a tenant's contract may. */
    limits: z
      .object({
        requestsPerSecond: z.number().min(0.01).max(1000).optional(),
        maxConcurrent: z.number().int().min(1).max(64).optional(),
      })
      .optional(),
  })
  .loose();
export type RevioSettings = z.infer<typeof revioSettingsSchema>;

/** Rev.io answers errors as an array of `{ok, error, message}` (carrier-apis §6). */
const errorItem = z.object({ error: z.string().nullish(), message: z.string().nullish() }).loose();
/** Its API gateway (Azure API Management) answers its own refusals as `{statusCode, message}`. */
const gatewayError = z.object({ statusCode: z.number(), message: z.string() }).loose();

export function parseRevioError(_status: number, body: unknown): { code?: string; message?: string } {
  const gateway = gatewayError.safeParse(body);
  if (gateway.success) return { message: gateway.data.message };
  const first = z.array(errorItem).safeParse(body);
  const item = first.success ? first.data[0] : errorItem.safeParse(body).data;
  return item ? { code: item.error ?? undefined, message: item.message ?? undefined } : {};
}

/**
 * The wait a throttled answer states in its text, for answers without `Retry-After` (the header wins
 * when present): the gateway's "Rate limit is exceeded. Try again in 5 seconds." and Rev.io's own
 * "Please wait 3 seconds and try again."
 */
export function revioRetryAfter(
  status: number,
  _body: unknown,
  parsed: { message?: string },
): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  const seconds = /(?:wait|try again in)\s+(\d+(?:\.\d+)?)\s+second/i.exec(parsed.message ?? '')?.[1];
  return seconds === undefined ? undefined : Math.ceil(Number(seconds) * 1000);
}

/**
 * How every Rev.io call is sent and read: the gateway's subscription key and Basic auth on each, Rev.io's
 * and the gateway's error bodies, and the wait a throttled answer states.
 */
export function revioHttpOptions(credentials: RevioCredentials): CarrierHttpOptions {
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return {
    system: 'revio',
    headers: () => ({
      authorization: `Basic ${basic}`,
      [REVIO_SUBSCRIPTION_KEY_HEADER]: credentials.subscriptionKey,
    }),
    parseError: parseRevioError,
    retryAfterFromBody: revioRetryAfter,
  };
}

const createdSchema = z.object({ id: z.coerce.number().int(), ok: z.boolean() }).loose();

const serviceSchema = z
  .object({
    service_id: z.coerce.number().int(),
    customer_id: z.coerce.number().int(),
    number: z.string().nullish(),
    number2: z.string().nullish(),
    status: z.string(),
  })
  .loose();
export type RevioService = z.infer<typeof serviceSchema>;

/** A service with its custom fields (`fields: [{field_id, label, value}]`), as one service reads. */
const serviceDetailSchema = serviceSchema.extend({
  fields: z
    .array(
      z.object({ field_id: z.coerce.number().int(), label: z.string(), value: z.string().nullish() }).loose(),
    )
    .default([]),
});
export type RevioServiceDetail = z.infer<typeof serviceDetailSchema>;

const serviceProductSchema = z
  .object({
    service_product_id: z.coerce.number().int(),
    product_id: z.coerce.number().int(),
    status: z.string(),
  })
  .loose();

const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ records: z.array(item), record_count: z.coerce.number().int() }).loose();

const customerSchema = z
  .object({ customer_id: z.coerce.number().int(), name: z.string(), status: z.string() })
  .loose();
export type RevioCustomer = z.infer<typeof customerSchema>;

export interface NewRevioService {
  customer_id: number;
  provider_id: number;
  service_type_id?: number;
  package_id?: number;
  number: string;
  number2?: string;
  effective_date?: string;
  activated_date?: string;
  description?: string;
}

/** Services read a page at a time when every one of a status is wanted (a reconciliation). */
export const SERVICES_PAGE_SIZE = 500;

/** The Rev.io calls billing needs: customers, services and their products (carrier-apis §6). */
export class RevioClient {
  readonly #http: CarrierHttpClient;
  readonly settings: RevioSettings;

  constructor(http: CarrierHttpClient, settings: Record<string, unknown>) {
    this.#http = http;
    this.settings = revioSettingsSchema.parse(settings);
  }

  async customers(page: number, context: CallContext) {
    const response = await this.#http.send(
      {
        action: 'list_customers',
        method: 'GET',
        path: '/v1/Customers',
        query: { page, page_size: 500 },
        responseSchema: listOf(customerSchema),
      },
      context,
    );
    return response.body;
  }

  async findServices(
    search: { customerId?: number; number?: string; number2?: string; status?: string },
    context: CallContext,
  ): Promise<RevioService[]> {
    const query: Record<string, string | number> = {};
    if (search.customerId !== undefined) query['search.customer_id'] = search.customerId;
    if (search.number !== undefined) query['search.number'] = search.number;
    if (search.number2 !== undefined) query['search.number2'] = search.number2;
    if (search.status !== undefined) query['search.status'] = search.status;
    const response = await this.#http.send(
      {
        action: 'list_services',
        method: 'GET',
        path: '/v1/Services',
        query,
        responseSchema: listOf(serviceSchema),
      },
      context,
    );
    return response.body.records;
  }

  /** One page of the services in a status (500 a page), with how many there are in all. */
  async servicesPage(status: string, page: number, context: CallContext) {
    const response = await this.#http.send(
      {
        action: 'list_services',
        method: 'GET',
        path: '/v1/Services',
        query: { 'search.status': status, page, page_size: SERVICES_PAGE_SIZE },
        responseSchema: listOf(serviceSchema),
      },
      context,
    );
    return response.body;
  }

  /** Not re-sent in process after an unclear failure: the caller looks the service up first. */
  async createService(service: NewRevioService, context: CallContext): Promise<number> {
    const response = await this.#http.send(
      {
        action: 'create_service',
        method: 'POST',
        path: '/v1/Services',
        body: service,
        responseSchema: createdSchema,
        idempotent: false,
      },
      context,
    );
    return response.body.id;
  }

  async disconnectService(serviceId: number, context: CallContext): Promise<void> {
    await this.#http.send(
      {
        action: 'update_service',
        method: 'PATCH',
        path: `/v1/Services/${serviceId}`,
        headers: { 'content-type': 'application/json-patch+json' },
        body: [
          { op: 'replace', path: '/status', value: 'DISCONNECTED' },
          { op: 'replace', path: '/disconnected_date', value: new Date().toISOString() },
        ],
        responseSchema: createdSchema,
        idempotent: true,
      },
      context,
    );
  }

  async getService(serviceId: number, context: CallContext): Promise<RevioServiceDetail> {
    const response = await this.#http.send(
      {
        action: 'get_service',
        method: 'GET',
        path: `/v1/Services/${serviceId}`,
        responseSchema: serviceDetailSchema,
      },
      context,
    );
    return response.body;
  }

  /**
   * Sets custom fields' values, each named by its place in the service's `fields` (a JSON Pointer), in
   * one JSON-Patch. Setting a value twice leaves the same value: safe to send again.
   */
  async setServiceFields(
    serviceId: number,
    values: ReadonlyArray<{ index: number; value: string }>,
    context: CallContext,
  ): Promise<void> {
    await this.#http.send(
      {
        action: 'update_service',
        method: 'PATCH',
        path: `/v1/Services/${serviceId}`,
        headers: { 'content-type': 'application/json-patch+json' },
        body: values.map(({ index, value }) => ({ op: 'replace', path: `/fields/${index}/value`, value })),
        responseSchema: createdSchema,
        idempotent: true,
      },
      context,
    );
  }

  async serviceProducts(serviceId: number, context: CallContext) {
    const response = await this.#http.send(
      {
        action: 'list_service_products',
        method: 'GET',
        path: '/v1/ServiceProduct',
        query: { 'search.service_id': serviceId },
        responseSchema: listOf(serviceProductSchema),
      },
      context,
    );
    return response.body.records;
  }

  async createServiceProduct(
    product: {
      service_id: number;
      product_id: number;
      customer_id: number;
      rate?: number;
      quantity: number;
      status: 'ACTIVE';
      effective_date?: string;
      generate_proration?: boolean;
    },
    context: CallContext,
  ): Promise<number> {
    const response = await this.#http.send(
      {
        action: 'create_service_product',
        method: 'POST',
        path: '/v1/ServiceProduct',
        body: product,
        responseSchema: createdSchema,
        idempotent: false,
      },
      context,
    );
    return response.body.id;
  }
}
