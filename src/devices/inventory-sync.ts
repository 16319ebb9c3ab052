import type { Logger } from 'pino';
import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { type AuditScope, auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { defineTask, NonRetryableError } from '../queue/index.ts';
import { newId } from '../shared/ids.ts';
import { devicesRepository } from './devices-repository.ts';

/** Reads a carrier account's lines into the inventory. One sync per account waits at a time. */
export const inventorySyncTask = defineTask({
  name: 'inventory.sync',
  payload: z.object({ carrierAccountId: z.string().min(1) }),
  key: ({ carrierAccountId }) => `inventory-sync:${carrierAccountId}`,
  maxAttempts: 5,
});

/**
 * Reads every line of a carrier account from the carrier into the inventory, so bulk changes can be
 * checked against it. Each page is committed as it arrives; running it again is harmless.
 */
export class InventorySync {
  readonly #deps: { db: Db; accounts: CarrierAccounts; registry: CarrierRegistry; logger: Logger };

  constructor(deps: { db: Db; accounts: CarrierAccounts; registry: CarrierRegistry; logger: Logger }) {
    this.#deps = deps;
  }

  async run(carrierAccountId: string, signal: AbortSignal): Promise<void> {
    const { db, accounts, registry } = this.#deps;
    const loaded = await accounts.load(carrierAccountId);
    if (!loaded) throw new NonRetryableError(`Carrier account ${carrierAccountId} does not exist`);
    const { account, version } = loaded;
    const adapter = registry.adapter(account.carrier);
    if (!adapter?.inventory) {
      await this.#finish(account.id, account.tenantId, { error: `${account.carrier} cannot list its lines` });
      return;
    }
    const client = registry.clientFor(account, version);
    const scope: AuditScope = {
      tenantId: account.tenantId,
      bulkChangeId: null,
      deviceChangeId: null,
      carrierAccountId: account.id,
      actor: 'inventory_sync',
    };
    const audit = auditRepository(db);
    const pending: Array<Promise<void>> = [];
    let lines = 0;
    let created = 0;
    try {
      for await (const page of adapter.inventory.pages(client, {
        signal,
        audit: (record) => pending.push(audit.append([auditEntryFromCall(scope, record)])),
      })) {
        const now = Date.now();
        created += await devicesRepository(db).upsertFromCarrier(
          page.map((line) => ({
            id: newId(now),
            tenantId: account.tenantId,
            carrierAccountId: account.id,
            iccid: line.iccid,
            imei: line.imei ?? null,
            msisdn: line.msisdn ?? null,
            eid: line.eid ?? null,
            status: adapter.normaliseStatus(line.carrierStatus),
            carrierStatus: line.carrierStatus,
            carrierRatePlan: line.carrierRatePlan ?? null,
            communicationPlan: line.communicationPlan ?? null,
          })),
          now,
        );
        lines += page.length;
      }
    } catch (error) {
      await Promise.all(pending);
      await this.#finish(account.id, account.tenantId, {
        lines,
        created,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    await Promise.all(pending);
    await this.#finish(account.id, account.tenantId, { lines, created, updated: lines - created });
  }

  async #finish(carrierAccountId: string, tenantId: string, result: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    await inTransaction(this.#deps.db, async (tx) => {
      await carrierAccountsRepository(tx).recordInventorySync(carrierAccountId, now, result);
      await auditRepository(tx).append([
        auditEntryForEvent(
          { tenantId, bulkChangeId: null, deviceChangeId: null, carrierAccountId, actor: 'inventory_sync' },
          { action: 'inventory_sync', outcome: result.error ? 'failed' : 'success', detail: result },
          now,
        ),
      ]);
    });
    this.#deps.logger.info({ carrierAccountId, ...result }, 'inventory sync finished');
  }
}
