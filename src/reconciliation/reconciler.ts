import type { Logger } from 'pino';
import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import type { RevioClient } from '../billing/revio/client.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { CarrierAccount } from '../core/flow.ts';
import { type Db, type Executor, inTransaction } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { carrierLinePages } from '../devices/inventory-sync.ts';
import { defineTask } from '../queue/index.ts';
import { type BillingService, type CarrierLine, compareLines } from './compare.ts';
import { reconciliationRepository } from './reconciliation-repository.ts';

/** Runs one reconciliation; its key folds a run asked for twice into one job. */
export const reconciliationRunTask = defineTask({
  name: 'reconciliation.run',
  payload: z.object({ reconciliationId: z.string().min(1) }),
  key: ({ reconciliationId }) => `reconciliation:${reconciliationId}`,
  maxAttempts: 5,
});

/** Looks for accounts whose reconciliation schedule is due, and queues their runs. */
export const reconciliationScheduleTask = defineTask({
  name: 'reconciliation.schedule',
  payload: z.object({}),
  key: () => 'reconciliation-schedule',
  maxAttempts: 1_000,
});

export interface ReconcilerDeps {
  db: Db;
  accounts: CarrierAccounts;
  registry: CarrierRegistry;
  billing: BillingConnections;
  logger: Logger;
}

/**
 * A carrier callback stored for no row of ours: once rows have had time to record their requests,
 * a result still no row carries is a change made outside bulkchange, and the account is reconciled.
 */
export const reconciliationAfterCallbackTask = defineTask({
  name: 'reconciliation.after_callback',
  payload: z.object({
    carrierAccountId: z.string().min(1),
    requestId: z.string().min(1),
    iccid: z.string().min(1),
  }),
  key: ({ carrierAccountId, requestId, iccid }) =>
    `reconciliation-callback:${carrierAccountId}:${requestId}:${iccid}`,
  maxAttempts: 5,
});

/** The actor of a reconciliation's carrier and billing reads in the audit log. */
const ACTOR = 'reconciliation';

/**
 * Reads a carrier account's three sides — the carrier's lines (as the inventory sync reads them), our
 * inventory, billing's active services — compares them and stores the drifts (ADR 0049). It changes
 * nothing anywhere: fixing is a bulk change, proposed from the report.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async run(reconciliationId: string, signal: AbortSignal): Promise<void> {
    const { db, accounts, registry } = this.#deps;
    const runs = reconciliationRepository(db);
    const run = await runs.find(reconciliationId);
    if (!run || run.status === 'completed' || run.status === 'failed') return;
    await runs.start(run.id, Date.now());
    const loaded = await accounts.load(run.carrierAccountId);
    try {
      if (!loaded) throw new Error(`Carrier account ${run.carrierAccountId} does not exist`);
      const adapter = registry.adapter(loaded.account.carrier);
      if (!adapter?.inventory) throw new Error(`${loaded.account.carrier} cannot list its lines`);
      const carrier = new Map<string, CarrierLine>();
      for await (const page of carrierLinePages({ db, registry }, loaded, ACTOR, signal)) {
        for (const line of page)
          carrier.set(line.iccid, { ...line, status: adapter.normaliseStatus(line.carrierStatus) });
      }
      const ours = (await devicesRepository(db).listByAccount(loaded.account.id)).filter((d) => !d.archived);
      const billing = await this.#billingServices(loaded.account, signal);
      const drifts = compareLines(carrier, ours, billing);
      const counts = {
        carrierLines: carrier.size,
        inventoryLines: ours.length,
        billingServices: billing?.length ?? null,
        drifts: drifts.length,
      };
      await inTransaction(db, async (tx) => {
        await reconciliationRepository(tx).complete(run.id, run.tenantId, drifts, counts, Date.now());
        await this.#audit(tx, run, 'success', counts);
      });
      this.#deps.logger.info({ reconciliationId, ...counts }, 'reconciliation finished');
    } catch (error) {
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      await inTransaction(db, async (tx) => {
        await reconciliationRepository(tx).fail(run.id, message, Date.now());
        await this.#audit(tx, run, 'failed', { error: message });
      });
    }
  }

  /** Billing's active services, or null when the tenant has no billing connection (nothing to compare). */
  async #billingServices(account: CarrierAccount, signal: AbortSignal): Promise<BillingService[] | null> {
    const revio = await this.#deps.billing.client(account.tenantId);
    if (!revio) return null;
    return readActiveServices(revio, this.#deps.db, account, signal);
  }

  async #audit(
    tx: Executor,
    run: { id: string; tenantId: string; carrierAccountId: string },
    outcome: 'success' | 'failed',
    detail: Record<string, unknown>,
  ): Promise<void> {
    await auditRepository(tx).append([
      auditEntryForEvent(
        {
          tenantId: run.tenantId,
          bulkChangeId: null,
          deviceChangeId: null,
          carrierAccountId: run.carrierAccountId,
          actor: ACTOR,
        },
        { action: 'reconciliation', outcome, detail: { reconciliationId: run.id, ...detail } },
        Date.now(),
      ),
    ]);
  }
}

/** Every active service in billing, a page at a time, each call audited. */
async function readActiveServices(
  revio: RevioClient,
  db: Db,
  account: CarrierAccount,
  signal: AbortSignal,
): Promise<BillingService[]> {
  const scope = {
    tenantId: account.tenantId,
    bulkChangeId: null,
    deviceChangeId: null,
    carrierAccountId: account.id,
    actor: ACTOR,
  };
  const pending: Array<Promise<void>> = [];
  const audit = auditRepository(db);
  const services: BillingService[] = [];
  try {
    for (let page = 1; ; page++) {
      const listed = await revio.servicesPage('ACTIVE', page, {
        signal,
        audit: (record) => pending.push(audit.append([auditEntryFromCall(scope, record)])),
      });
      services.push(
        ...listed.records.map((service) => ({
          serviceId: String(service.service_id),
          customerId: String(service.customer_id),
          number: service.number ?? null,
          number2: service.number2 ?? null,
        })),
      );
      if (listed.records.length === 0 || services.length >= listed.record_count) return services;
    }
  } finally {
    await Promise.all(pending);
  }
}
