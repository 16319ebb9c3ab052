import { z } from 'zod';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange, changedFields } from '../audit/change-entry.ts';
import type { OutboundAddressPolicy } from '../carriers/http/address-policy.ts';
import type { CarrierHttpClientFactory } from '../carriers/http/factory.ts';
import { checkOutboundUrl } from '../carriers/http/outbound-url.ts';
import { AppError } from '../core/errors.ts';
import { type Executor, inTransaction } from '../db/database.ts';
import { isoTime, jsonObject } from '../shared/answers.ts';
import { billingRepository } from './billing-repository.ts';
import {
  RevioClient,
  revioCredentialsSchema,
  revioHttpOptions,
  revioSettingsSchema,
} from './revio/client.ts';

export const billingConnectionInput = z.object({
  system: z.literal('revio'),
  baseUrl: z.url(),
  credentials: revioCredentialsSchema,
  writeEnabled: z.boolean().default(true),
  settings: revioSettingsSchema.default({ providerIds: {} }),
});
export type BillingConnectionInput = z.infer<typeof billingConnectionInput>;

/** The tenant's billing connection as the API shows it: never its credentials. */
export const billingConnectionViewSchema = z.object({
  system: z.literal('revio'),
  baseUrl: z.string(),
  writeEnabled: z.boolean(),
  settings: jsonObject,
  updatedAt: isoTime,
});
export type BillingConnectionView = z.infer<typeof billingConnectionViewSchema>;

/** `GET` and `PUT /billing-connection`: the connection, null before one is saved. */
export const billingConnectionAnswerSchema = z.object({ connection: billingConnectionViewSchema.nullable() });

/**
 * Rev.io publishes no limits; this is what our simulator allows. Its throttle answers say how long to
 * wait, and the client honours that.
 */
const revioLimits = {
  requestsPerSecond: 8,
  maxConcurrent: 4,
  batchSize: 1,
  retryBudget: 8,
  requestTimeoutMs: 30_000,
  checkIntervalMs: 60_000,
  maxWaitMs: 3_600_000,
};

/** A tenant's billing system (Rev.io): its connection, credentials encrypted, and one client per version. */
export class BillingConnections {
  readonly #db: Executor;
  readonly #box: SecretBox;
  readonly #http: CarrierHttpClientFactory;
  readonly #outbound: OutboundAddressPolicy;
  readonly #clients = new Map<string, { version: number; client: RevioClient }>();

  constructor(db: Executor, box: SecretBox, http: CarrierHttpClientFactory, outbound: OutboundAddressPolicy) {
    this.#db = db;
    this.#box = box;
    this.#http = http;
    this.#outbound = outbound;
  }

  get(tenantId: string): Promise<BillingConnectionView | null> {
    return this.#viewWith(this.#db, tenantId);
  }

  async #viewWith(db: Executor, tenantId: string): Promise<BillingConnectionView | null> {
    const row = await billingRepository(db).connection(tenantId);
    if (!row) return null;
    return {
      system: 'revio',
      baseUrl: row.base_url,
      writeEnabled: row.write_enabled === 1,
      settings: JSON.parse(row.settings),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  /**
   * Saves the tenant's connection; audited in the same transaction with who saved it, the fields before
   * → after, and the credentials as `replaced` (a save always replaces them).
   */
  async save(tenantId: string, input: BillingConnectionInput, actor: Actor): Promise<BillingConnectionView> {
    const problem = await checkOutboundUrl('baseUrl', input.baseUrl, this.#outbound);
    if (problem?.code === 'ADDRESS_NOT_ALLOWED') {
      throw new AppError(
        'ADDRESS_NOT_ALLOWED',
        'The base URL leads to an address this server does not call',
        [problem],
      );
    }
    if (problem) throw new AppError('VALIDATION_FAILED', 'The billing connection is invalid', [problem]);
    const before = await this.get(tenantId);
    await inTransaction(this.#db, async (tx) => {
      await billingRepository(tx).saveConnection({
        tenant_id: tenantId,
        system: input.system,
        base_url: input.baseUrl.replace(/\/$/, ''),
        credentials_encrypted: this.#box.encrypt(JSON.stringify(input.credentials)),
        write_enabled: input.writeEnabled ? 1 : 0,
        settings: JSON.stringify(input.settings),
        updated_at: Date.now(),
      });
      const { updatedAt: _before, ...fieldsBefore } = before ?? {};
      const { updatedAt: _after, ...fieldsAfter } = (await this.#viewWith(tx, tenantId)) ?? {};
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId,
          actor,
          action: before ? 'billing_connection.update' : 'billing_connection.create',
          ...changedFields(
            { ...fieldsBefore, credentials: before ? 'previous (not recorded)' : null },
            { ...fieldsAfter, credentials: 'replaced' },
          ),
        }),
      ]);
    });
    return (await this.get(tenantId))!;
  }

  /** The tenant's Rev.io client, or null when none is configured (or writes are off). */
  async client(tenantId: string): Promise<RevioClient | null> {
    const row = await billingRepository(this.#db).connection(tenantId);
    if (row?.write_enabled !== 1) return null;
    const cached = this.#clients.get(tenantId);
    if (cached && cached.version === row.updated_at) return cached.client;
    const stored = revioCredentialsSchema.safeParse(JSON.parse(this.#box.decrypt(row.credentials_encrypted)));
    if (!stored.success) {
      // Saved before the subscription key was asked for: every call would be refused by the gateway.
      throw new AppError(
        'BILLING_NOT_CONFIGURED',
        'The Rev.io connection has no subscription key: PUT /api/v1/billing-connection again with credentials.subscriptionKey',
      );
    }
    const settings = revioSettingsSchema.parse(JSON.parse(row.settings));
    const endpoint = {
      id: `billing:${tenantId}`,
      baseUrl: row.base_url,
      limits: { ...revioLimits, ...settings.limits },
    };
    const client = new RevioClient(this.#http(endpoint, revioHttpOptions(stored.data)), settings);
    this.#clients.set(tenantId, { version: row.updated_at, client });
    return client;
  }

  /** For flows that need billing: a clear error when the tenant has none. */
  async require(tenantId: string): Promise<RevioClient> {
    const client = await this.client(tenantId);
    if (!client) {
      throw new AppError(
        'BILLING_NOT_CONFIGURED',
        'No billing system is configured (PUT /api/v1/billing-connection)',
      );
    }
    return client;
  }
}
