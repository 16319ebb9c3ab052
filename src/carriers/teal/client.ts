import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CarrierError } from '../../core/carrier-error.ts';
import type { CarrierAccount } from '../../core/flow.ts';
import { bodyCases, incoming, outgoing } from '../body-case.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';
import { outboundPathSchema } from '../http/outbound-url.ts';

export const tealCredentialsSchema = z.object({
  apiKey: z.string().min(1),
  apiSecret: z.string().min(1),
});

/** A header that carries a secret: its name must say so, so that the audit log redacts its value. */
const secretHeaderName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'a header name')
  .regex(/key|secret|token|auth/i, 'a header name containing key, secret, token or auth');

/**
 * Teal publishes its API only in its own swagger and Confluence (carrier-apis §5), and AMOP keeps the
 * write paths in environment variables whose values are not public: the paths, the two credential
 * headers' names and the bodies' key casing are settings, defaulting to what the original sent.
 */
export const tealSettingsSchema = z
  .object({
    esimsPath: outboundPathSchema.default('/api/v1/esims'),
    dataConsumptionPath: outboundPathSchema.default('/api/v1/data-consumption/data'),
    enablePath: outboundPathSchema.default('/api/v1/esims/enable'),
    disablePath: outboundPathSchema.default('/api/v1/esims/disable'),
    assignPlanPath: outboundPathSchema.default('/api/v1/esims/assign-plan'),
    apiKeyHeader: secretHeaderName.default('ApiKey'),
    apiSecretHeader: secretHeaderName.default('ApiSecret'),
    bodyCase: z.enum(bodyCases).default('camel'),
    /**
     * Hosts besides the account's own whose operation links are followed: Teal's domain and its
     * subdomains (the integration API answers links on `integrationapi.teal.global`).
     */
    operationLinkDomains: z.array(z.string().regex(/^[a-z0-9.-]+$/i)).default(['teal.global']),
  })
  .loose();
export type TealSettings = z.infer<typeof tealSettingsSchema>;

/** Teal's error body: `{success: false, errorMessage}`. */
export const tealErrorSchema = z.object({ errorMessage: z.string().optional() }).loose();

/** List calls take at most 100 (carrier-apis §5); writes are held to the same bound. */
export const TEAL_MAX_ENTRIES = 100;

const esimSchema = z
  .object({
    eid: z.string(),
    iccid: z.string(),
    msisdn: z.string().nullish(),
    state: z.string(),
    planUuid: z.string().nullish(),
  })
  .loose();
const esimPageSchema = z.object({ entries: z.array(esimSchema), total: z.number().int().min(0) }).loose();
export type TealEsimPage = z.infer<typeof esimPageSchema>;

/**
 * One entry of a data consumption report: the bytes an eSIM used in the day (or month) starting at
 * `periodStart` (`yyyy-MM-dd HH:mm:ss`, UTC). Teal's own description was not available: the shape is
 * the simulator's, keyed by EID like the eSIM list (docs/carriers/teal.md, unconfirmed).
 */
const consumptionSchema = z
  .object({
    eid: z.string(),
    periodStart: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
      .transform((value) => Date.parse(`${value.replace(' ', 'T')}Z`))
      .pipe(z.number().int()),
    bytes: z.number().min(0),
  })
  .loose();
const consumptionPageSchema = z
  .object({ entries: z.array(consumptionSchema), total: z.number().int().min(0) })
  .loose();
export type TealConsumptionPage = z.infer<typeof consumptionPageSchema>;

/** The report granularities Teal offers (carrier-apis §5); the inventory sync reads `DAILY`. */
export const tealDataTypes = [
  'DAILY',
  'MONTHLY',
  'DAILY_PROVIDER_NETWORK',
  'MONTHLY_PROVIDER_NETWORK',
] as const;
export type TealDataType = (typeof tealDataTypes)[number];

/** A time as Teal's consumption query takes it: `yyyy-MM-dd HH:mm:ss`, UTC. */
export const tealPeriodTime = (ms: number): string =>
  new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

const acceptedSchema = z
  .object({
    success: z.literal(true),
    link: z.object({ operationResultLink: z.object({ href: z.string().min(1) }) }),
  })
  .loose();

const operationSchema = z
  .object({
    status: z.string().optional(),
    entries: z
      .array(
        z
          .object({
            eid: z.string().optional(),
            success: z.boolean(),
            errorMessage: z.string().nullish(),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();
export type TealOperationResult = z.infer<typeof operationSchema>;

/**
 * Whether an operation has its results. The simulator says `IN_PROGRESS` until `DONE`; AMOP reads the
 * entries without a status, so an answer without one is final once it has entries.
 */
export const isOperationFinished = (operation: TealOperationResult): boolean =>
  operation.status === undefined
    ? operation.entries.length > 0
    : operation.status.toUpperCase() !== 'IN_PROGRESS';

export type TealWrite =
  | { action: 'enable' | 'disable'; entries: string[] }
  | { action: 'assign_plan'; entries: Array<{ eid: string; planUuid: string }> };

/** Teal's integration API (carrier-apis §5): eSIMs keyed by EID, a client `requestId` on every call. */
export class TealClient {
  readonly #http: CarrierHttpClient;
  readonly #base: URL;
  readonly settings: TealSettings;

  constructor(account: CarrierAccount, http: CarrierHttpClient) {
    this.#http = http;
    this.#base = new URL(account.baseUrl);
    this.settings = tealSettingsSchema.parse(account.settings);
  }

  async listEsims(offset: number, context: CallContext): Promise<TealEsimPage> {
    const response = await this.#http.send(
      {
        action: 'list_esims',
        method: 'GET',
        path: this.settings.esimsPath,
        query: { offset, limit: TEAL_MAX_ENTRIES, requestId: randomUUID() },
        responseSchema: incoming(esimPageSchema, this.settings.bodyCase),
      },
      context,
    );
    return response.body;
  }

  /** One page (100 entries) of the data every eSIM of the account used per period between two times. */
  async dataConsumption(
    report: { dataType: TealDataType; from: number; to: number },
    offset: number,
    context: CallContext,
  ): Promise<TealConsumptionPage> {
    const response = await this.#http.send(
      {
        action: 'data_consumption',
        method: 'GET',
        path: this.settings.dataConsumptionPath,
        query: {
          dataType: report.dataType,
          periodStart: tealPeriodTime(report.from),
          periodEnd: tealPeriodTime(report.to),
          offset,
          limit: TEAL_MAX_ENTRIES,
          requestId: randomUUID(),
        },
        responseSchema: incoming(consumptionPageSchema, this.settings.bodyCase),
      },
      context,
    );
    return response.body;
  }

  /**
   * Starts an asynchronous write of at most 100 entries and returns the link to its result. Teal
   * answers a repeated `requestId` with the operation it started the first time (and the change sets a
   * state, harmless to ask twice), so the HTTP client may repeat it after a timeout or a 5xx.
   */
  async write(write: TealWrite, requestId: string, context: CallContext): Promise<string> {
    const response = await this.#http.send(
      {
        action: write.action,
        method: 'POST',
        path: this.#writePath(write.action),
        query: { requestId },
        body: outgoing({ entries: write.entries }, this.settings.bodyCase),
        responseSchema: incoming(acceptedSchema, this.settings.bodyCase),
        idempotent: true,
      },
      context,
    );
    return this.#operationUrl(response.body.link.operationResultLink.href);
  }

  async operation(url: string, context: CallContext): Promise<TealOperationResult> {
    const response = await this.#http.send(
      {
        action: 'operation_result',
        method: 'GET',
        path: url,
        query: { requestId: randomUUID() },
        responseSchema: incoming(operationSchema, this.settings.bodyCase),
      },
      context,
    );
    return response.body;
  }

  #writePath(action: TealWrite['action']): string {
    const { enablePath, disablePath, assignPlanPath } = this.settings;
    return { enable: enablePath, disable: disablePath, assign_plan: assignPlanPath }[action];
  }

  #operationUrl(href: string): string {
    return operationUrl(href, this.#base, this.settings.operationLinkDomains);
  }
}

/**
 * Where to read an operation's result. A link on the account's own host is read there, on the
 * account's scheme (AMOP rewrites Teal's `http` links to `https`). A link on Teal's own domain (or
 * another of `domains`) is followed on that host, over https. The credentials go with every call, so
 * a link anywhere else is refused rather than followed.
 */
export function operationUrl(href: string, base: URL, domains: readonly string[]): string {
  const link = new URL(href, base);
  if (link.host === base.host) return `${base.origin}${link.pathname}${link.search}`;
  const host = link.hostname.toLowerCase();
  const trusted = domains.some(
    (domain) => host === domain.toLowerCase() || host.endsWith(`.${domain.toLowerCase()}`),
  );
  if (trusted) return `https://${link.host}${link.pathname}${link.search}`;
  throw new CarrierError({
    kind: 'rejected',
    carrierCode: 'FOREIGN_OPERATION_LINK',
    message: `Teal accepted the change, but its result link ${link.origin}${link.pathname} is neither on ${base.host} nor on Teal's domain; check the lines at Teal`,
  });
}
