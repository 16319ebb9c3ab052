import { z } from 'zod';
import type { Actor } from '../audit/actor.ts';
import { type AuditScope, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository, type NewAuditEntry } from '../audit/audit-repository.ts';
import type { AuditRecord } from '../core/audit-record.ts';
import { isCarrierError } from '../core/carrier-error.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../db/database.ts';
import type { BillingConnections } from './billing-connections.ts';
import { billingRepository, type CatalogName, type CatalogRow } from './billing-repository.ts';

/** An entry of a tenant's billing customers, customer rate plans or customer pools. */
export const catalogEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'closed']),
  dataMb: z.number().nullable(),
  monthlyRate: z.number().nullable(),
});
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

const toEntry = (row: CatalogRow): CatalogEntry => ({
  id: row.id,
  name: row.name,
  status: row.status === 'active' ? 'active' : 'closed',
  dataMb: row.data_mb,
  monthlyRate: row.monthly_rate,
});

const toRow = (tenantId: string, entry: CatalogEntry): CatalogRow => ({
  tenant_id: tenantId,
  id: entry.id,
  name: entry.name,
  status: entry.status,
  data_mb: entry.dataMb,
  monthly_rate: entry.monthlyRate,
});

/**
 * A failed call to the billing system, as the API answers it: refused by the outbound address policy
 * (422), or refused or failed by the billing system (502, with its message, which is the tenant's own
 * system's). Not a carrier error: a bug, left as it is.
 */
function billingFailure(error: unknown): unknown {
  if (!isCarrierError(error)) return error;
  if (error.carrierCode === 'ADDRESS_NOT_ALLOWED') return new AppError('ADDRESS_NOT_ALLOWED', error.message);
  return new AppError(
    'BILLING_UNAVAILABLE',
    `The billing system did not answer as expected: ${error.message}`,
  );
}

/** The tenant's billing catalogs, which intake checks rows against. */
export class BillingCatalogs {
  readonly #db: Executor;
  readonly #connections: BillingConnections;

  constructor(db: Executor, connections: BillingConnections) {
    this.#db = db;
    this.#connections = connections;
  }

  async list(tenantId: string, catalog: CatalogName): Promise<CatalogEntry[]> {
    return (await billingRepository(this.#db).catalog(catalog, tenantId)).map(toEntry);
  }

  /** Adds entries, or updates those whose id exists. */
  async upsert(tenantId: string, catalog: CatalogName, entries: CatalogEntry[]): Promise<void> {
    await billingRepository(this.#db).upsertCatalog(
      catalog,
      entries.map((entry) => toRow(tenantId, entry)),
    );
  }

  /**
   * Reads the billing system's customers into the catalog; returns how many it read. Every call to the
   * billing system is in the audit log under `actor`, whether the sync ends well or not.
   */
  async syncCustomers(tenantId: string, actor: Actor): Promise<number> {
    const revio = await this.#connections.require(tenantId);
    const scope: AuditScope = {
      tenantId,
      bulkChangeId: null,
      deviceChangeId: null,
      carrierAccountId: null,
      actor: actor.id,
    };
    const calls: NewAuditEntry[] = [];
    const audit = (record: AuditRecord) => calls.push(auditEntryFromCall(scope, record));
    let imported = 0;
    try {
      for (let page = 1; ; page++) {
        const { records, record_count } = await revio.customers(page, { audit }).catch((error: unknown) => {
          throw billingFailure(error);
        });
        await this.upsert(
          tenantId,
          'billing_customers',
          records.map((customer) => ({
            id: String(customer.customer_id),
            name: customer.name,
            status: customer.status.toLowerCase() === 'active' ? 'active' : 'closed',
            dataMb: null,
            monthlyRate: null,
          })),
        );
        imported += records.length;
        if (records.length === 0 || imported >= record_count) return imported;
      }
    } finally {
      await auditRepository(this.#db).append(calls);
    }
  }
}
