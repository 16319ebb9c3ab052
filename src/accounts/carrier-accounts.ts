import { z } from 'zod';
import type { Actor } from '../audit/actor.ts';
import { auditRepository, type NewAuditEntry } from '../audit/audit-repository.ts';
import { auditEntryForChange, changedFields } from '../audit/change-entry.ts';
import type { AccountReports } from '../carriers/carrier.ts';
import type { OutboundAddressPolicy } from '../carriers/http/address-policy.ts';
import { checkOutboundUrl, issueDetailCode } from '../carriers/http/outbound-url.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type CarrierName, carrierNames } from '../core/change-types.ts';
import { AppError, conflict, type ErrorDetail, notFound } from '../core/errors.ts';
import type { CarrierAccount, CarrierLimits } from '../core/flow.ts';
import { type Executor, inTransaction, isUniqueViolation } from '../db/database.ts';
import { isoTime, jsonObject } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { type CarrierAccountRow, carrierAccountsRepository } from './carrier-accounts-repository.ts';
import type { SecretBox } from './secret-box.ts';

const nameTaken = (name: string) =>
  conflict('NAME_TAKEN', `A carrier account named "${name}" already exists`);

/** An account's limits (DESIGN §2.6), as it takes them and as its view shows them. */
const limitsSchema = z.object({
  // One request in 100 s at least: a tiny positive rate (1e-300) would stall an account for ever.
  requestsPerSecond: z.number().min(0.01).max(10_000).nullable(),
  maxConcurrent: z.number().int().min(1).max(256),
  batchSize: z.number().int().min(1).max(100_000),
  retryBudget: z.number().int().min(1).max(100),
  requestTimeoutMs: z.number().int().min(100).max(600_000),
  checkIntervalMs: z.number().int().min(100).max(86_400_000),
  maxWaitMs: z
    .number()
    .int()
    .min(1_000)
    .max(30 * 86_400_000),
});

/** Per-account overrides of the carrier's default limits, kept in `settings.limits`. */
export const limitsOverrideSchema = limitsSchema.partial();

/** A carrier account as the API shows it: never its credentials. */
export const carrierAccountViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    carrier: z.enum(carrierNames),
    baseUrl: z.string(),
    writeEnabled: z.boolean(),
    settings: jsonObject,
    limits: limitsSchema.describe("The carrier's default limits with the account's overrides"),
    inventorySync: z
      .object({ at: isoTime, result: jsonObject })
      .nullable()
      .describe('The last inventory sync: when it ended and what it found (or why it failed)'),
    callbackRegistration: z
      .object({ at: isoTime, url: z.string(), ok: z.boolean(), error: z.string().nullable() })
      .nullable()
      .describe(
        "The last attempt to register the account's callback listener with the carrier (ThingSpace): null before the first; when `ok` is false the account's results are polled, and `error` says why",
      ),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'CarrierAccount' });
export type CarrierAccountView = z.infer<typeof carrierAccountViewSchema>;

/** A rate plan of the carrier account's catalog. */
export interface CarrierRatePlan {
  code: string;
  name: string;
  dataMb: number | null;
  communicationPlans: string[];
}

/** A rate plan as `GET /carrier-accounts/{id}/rate-plans` lists it: `dataMb` only when the carrier gives one. */
export const ratePlanViewSchema = z.object({
  code: z.string(),
  name: z.string(),
  dataMb: z.number().optional(),
  communicationPlans: z.array(z.string()),
});

export interface CarrierAccountInput {
  name: string;
  carrier: CarrierName;
  baseUrl: string;
  credentials: Record<string, unknown>;
  writeEnabled: boolean;
  settings: Record<string, unknown>;
}

/** Keeps what carrier clients report about their accounts (`AccountReports`) with the accounts. */
export const accountReports = (db: Executor): AccountReports => ({
  callbackRegistration: (accountId, registration) =>
    carrierAccountsRepository(db).recordCallbackRegistration(accountId, registration),
});

/** Carrier accounts: credentials encrypted at rest, never returned; settings and limits validated per carrier. */
export class CarrierAccounts {
  readonly #db: Executor;
  readonly #box: SecretBox;
  readonly #registry: CarrierRegistry;
  readonly #outbound: OutboundAddressPolicy;

  constructor(db: Executor, box: SecretBox, registry: CarrierRegistry, outbound: OutboundAddressPolicy) {
    this.#db = db;
    this.#box = box;
    this.#registry = registry;
    this.#outbound = outbound;
  }

  #adapterFor(carrier: CarrierName) {
    const adapter = this.#registry.adapter(carrier);
    if (!adapter) {
      const supported = this.#registry.adapters().map((a) => a.carrier);
      throw new AppError('VALIDATION_FAILED', `Carrier ${carrier} is not supported by this build`, [
        { field: 'carrier', code: 'UNSUPPORTED_CARRIER', message: `Supported: ${supported.join(', ')}` },
      ]);
    }
    return adapter;
  }

  #limits(row: CarrierAccountRow): CarrierLimits {
    const override = limitsOverrideSchema.safeParse(row.settings.limits ?? {});
    return { ...this.#adapterFor(row.carrier).defaultLimits, ...(override.success ? override.data : {}) };
  }

  view(row: CarrierAccountRow): CarrierAccountView {
    return {
      id: row.id,
      name: row.name,
      carrier: row.carrier,
      baseUrl: row.baseUrl,
      writeEnabled: row.writeEnabled,
      settings: row.settings,
      limits: this.#limits(row),
      inventorySync:
        row.inventorySyncedAt && row.inventorySyncResult
          ? { at: new Date(row.inventorySyncedAt).toISOString(), result: row.inventorySyncResult }
          : null,
      callbackRegistration: row.callbackRegistration
        ? { ...row.callbackRegistration, at: new Date(row.callbackRegistration.at).toISOString() }
        : null,
      createdAt: new Date(row.createdAt).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  }

  /**
   * Validates the base URL against the outbound address policy and the carrier's own credential and
   * settings shapes; every problem is reported at once. A refused address makes the answer
   * `ADDRESS_NOT_ALLOWED`, anything else `VALIDATION_FAILED`.
   */
  async #validate(
    carrier: CarrierName,
    baseUrl: string | undefined,
    credentials: unknown,
    settings: unknown,
  ): Promise<void> {
    const adapter = this.#adapterFor(carrier);
    const urlProblem =
      baseUrl === undefined ? undefined : await checkOutboundUrl('baseUrl', baseUrl, this.#outbound);
    const details: ErrorDetail[] = [
      ...(urlProblem ? [urlProblem] : []),
      ...(adapter.credentialsSchema.safeParse(credentials).error?.issues.map((i) => ({
        field: ['credentials', ...i.path].join('.'),
        code: 'INVALID_CREDENTIALS_SHAPE' as const,
        message: i.message,
      })) ?? []),
      ...(adapter.settingsSchema.safeParse(settings).error?.issues.map((i) => ({
        field: ['settings', ...i.path].join('.'),
        code: issueDetailCode(i) ?? ('INVALID_SETTINGS' as const),
        message: i.message,
      })) ?? []),
      ...(limitsOverrideSchema
        .safeParse((settings as { limits?: unknown })?.limits ?? {})
        .error?.issues.map((i) => ({
          field: ['settings', 'limits', ...i.path].join('.'),
          code: 'INVALID_LIMITS' as const,
          message: i.message,
        })) ?? []),
    ];
    if (details.some((detail) => detail.code === 'ADDRESS_NOT_ALLOWED')) {
      throw new AppError(
        'ADDRESS_NOT_ALLOWED',
        'The base URL leads to an address this server does not call',
        details,
      );
    }
    if (details.length) throw new AppError('VALIDATION_FAILED', 'The carrier account is invalid', details);
  }

  async list(tenantId: string): Promise<CarrierAccountView[]> {
    return (await carrierAccountsRepository(this.#db).list(tenantId)).map((row) => this.view(row));
  }

  async get(tenantId: string, id: string): Promise<CarrierAccountRow> {
    const row = await carrierAccountsRepository(this.#db).find(tenantId, id);
    if (!row) throw notFound('Carrier account');
    return row;
  }

  async create(
    tenantId: string,
    input: CarrierAccountInput,
    actor: Actor,
    db: Executor = this.#db,
  ): Promise<CarrierAccountView> {
    await this.#validate(input.carrier, input.baseUrl, input.credentials, input.settings);
    const now = Date.now();
    const row: CarrierAccountRow = {
      id: newId(now),
      tenantId,
      name: input.name,
      carrier: input.carrier,
      baseUrl: input.baseUrl.replace(/\/$/, ''),
      credentialsEncrypted: this.#box.encrypt(JSON.stringify(input.credentials)),
      writeEnabled: input.writeEnabled,
      settings: input.settings,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await inTransaction(db, async (tx) => {
        await carrierAccountsRepository(tx).insert(row);
        await auditRepository(tx).append([
          auditEntryForChange({
            tenantId,
            actor,
            action: 'carrier_account.create',
            subject: { carrierAccountId: row.id },
            after: { ...auditedFields(row), credentials: 'set' },
            at: now,
          }),
        ]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(input.name);
      throw error;
    }
    return this.view(row);
  }

  /**
   * Changes an account, with an audit entry per kind of change in the same transaction: writes turned
   * on or off, credentials replaced (never shown), anything else before → after.
   */
  async update(
    tenantId: string,
    id: string,
    patch: Partial<Omit<CarrierAccountInput, 'carrier'>>,
    actor: Actor,
  ): Promise<CarrierAccountView> {
    const existing = await this.get(tenantId, id);
    const credentials = patch.credentials ?? JSON.parse(this.#box.decrypt(existing.credentialsEncrypted));
    await this.#validate(existing.carrier, patch.baseUrl, credentials, patch.settings ?? existing.settings);
    try {
      await inTransaction(this.#db, async (tx) => {
        const accounts = carrierAccountsRepository(tx);
        await accounts.update(tenantId, id, {
          name: patch.name,
          baseUrl: patch.baseUrl?.replace(/\/$/, ''),
          writeEnabled: patch.writeEnabled,
          settings: patch.settings,
          credentialsEncrypted: patch.credentials
            ? this.#box.encrypt(JSON.stringify(patch.credentials))
            : undefined,
        });
        const updated = await accounts.find(tenantId, id);
        if (updated)
          await auditRepository(tx).append(accountChanges(tenantId, actor, existing, updated, patch));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(patch.name ?? existing.name);
      throw error;
    }
    return this.view(await this.get(tenantId, id));
  }

  /** The account's carrier rate plans (its catalog), for pickers and intake. */
  async ratePlans(tenantId: string, id: string): Promise<CarrierRatePlan[]> {
    const account = await this.get(tenantId, id);
    const plans = await carrierAccountsRepository(this.#db).listRatePlans(account.id);
    return plans.map((plan) => ({
      code: plan.code,
      name: plan.name,
      dataMb: plan.dataMb,
      communicationPlans: plan.communicationPlan ? plan.communicationPlan.split('|') : [],
    }));
  }

  /** The account as the engine needs it: credentials decrypted, limits resolved. */
  async load(id: string): Promise<{ account: CarrierAccount; version: number } | undefined> {
    const row = await carrierAccountsRepository(this.#db).findById(id);
    if (!row) return undefined;
    return {
      version: row.updatedAt,
      account: {
        id: row.id,
        tenantId: row.tenantId,
        name: row.name,
        carrier: row.carrier,
        baseUrl: row.baseUrl,
        credentials: JSON.parse(this.#box.decrypt(row.credentialsEncrypted)),
        writeEnabled: row.writeEnabled,
        settings: row.settings,
        limits: this.#limits(row),
      },
    };
  }
}

/** What the audit log records of an account: everything but its credentials. */
const auditedFields = (row: CarrierAccountRow) => ({
  name: row.name,
  carrier: row.carrier,
  baseUrl: row.baseUrl,
  writeEnabled: row.writeEnabled,
  settings: row.settings,
});

/** The audit entries of one update: writes toggled, credentials replaced, other fields changed. */
function accountChanges(
  tenantId: string,
  actor: Actor,
  before: CarrierAccountRow,
  after: CarrierAccountRow,
  patch: { credentials?: unknown },
): NewAuditEntry[] {
  const entry = (
    action: string,
    change: { before: Record<string, unknown>; after: Record<string, unknown> },
  ) => auditEntryForChange({ tenantId, actor, action, subject: { carrierAccountId: after.id }, ...change });
  const entries: NewAuditEntry[] = [];
  if (before.writeEnabled !== after.writeEnabled) {
    entries.push(
      entry(after.writeEnabled ? 'carrier_account.writes_enabled' : 'carrier_account.writes_disabled', {
        before: { writeEnabled: before.writeEnabled },
        after: { writeEnabled: after.writeEnabled },
      }),
    );
  }
  if (patch.credentials !== undefined) {
    entries.push(
      entry('carrier_account.credentials_replaced', {
        before: { credentials: 'previous (not recorded)' },
        after: { credentials: 'replaced' },
      }),
    );
  }
  const { writeEnabled: _before, ...restBefore } = auditedFields(before);
  const { writeEnabled: _after, ...restAfter } = auditedFields(after);
  const changed = changedFields(restBefore, restAfter);
  if (Object.keys(changed.after).length > 0) entries.push(entry('carrier_account.update', changed));
  return entries;
}
