import type { Logger } from 'pino';
import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import type { Actor } from '../audit/actor.ts';
import { type AuditScope, auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { LineSnapshot } from '../carriers/carrier.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { CarrierAccount } from '../core/flow.ts';
import { type Db, type Executor, inTransaction } from '../db/database.ts';
import { defineTask, type EnqueueInput, NonRetryableError } from '../queue/index.ts';
import { newId } from '../shared/ids.ts';
import { devicesRepository, type LineChange } from './devices-repository.ts';

/** Reads a carrier account's lines into the inventory. One sync per account waits at a time. */
export const inventorySyncTask = defineTask({
  name: 'inventory.sync',
  payload: z.object({ carrierAccountId: z.string().min(1) }),
  key: ({ carrierAccountId }) => `inventory-sync:${carrierAccountId}`,
  maxAttempts: 5,
});

/** Line changes kept in a sync's audit entry; the count says how many there were in all. */
const MAX_CHANGES_AUDITED = 1_000;

/**
 * Queues a sync of the account's lines, with an audit entry saying who asked, in one transaction.
 * `enqueue` is the caller's (it rings the local workers).
 */
export async function requestInventorySync(
  db: Db,
  enqueue: (executor: Executor, job: EnqueueInput) => Promise<string>,
  account: { id: string; tenantId: string },
  actor: Actor,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await enqueue(tx, inventorySyncTask.job({ carrierAccountId: account.id }));
    await auditRepository(tx).append([
      auditEntryForChange({
        tenantId: account.tenantId,
        actor,
        action: 'inventory_sync.request',
        subject: { carrierAccountId: account.id },
      }),
    ]);
  });
}

/**
 * The account's lines as its carrier lists them, a page at a time, each call audited under `actor`:
 * what the inventory sync stores and a reconciliation compares. Throws when the carrier cannot list
 * its lines; the audit entries are written before it returns or throws.
 */
export async function* carrierLinePages(
  deps: { db: Db; registry: CarrierRegistry },
  loaded: { account: CarrierAccount; version: number },
  actor: string,
  signal: AbortSignal,
): AsyncGenerator<LineSnapshot[]> {
  const { account, version } = loaded;
  const inventory = deps.registry.adapter(account.carrier)?.inventory;
  if (!inventory) throw new NonRetryableError(`${account.carrier} cannot list its lines`);
  const scope: AuditScope = {
    tenantId: account.tenantId,
    bulkChangeId: null,
    deviceChangeId: null,
    carrierAccountId: account.id,
    actor,
  };
  const audit = auditRepository(deps.db);
  const pending: Array<Promise<void>> = [];
  try {
    yield* inventory.pages(deps.registry.clientFor(account, version), {
      signal,
      audit: (record) => pending.push(audit.append([auditEntryFromCall(scope, record)])),
    });
  } finally {
    await Promise.all(pending);
  }
}

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
    const { account } = loaded;
    const adapter = registry.adapter(account.carrier);
    if (!adapter?.inventory) {
      await this.#finish(
        account.id,
        account.tenantId,
        { error: `${account.carrier} cannot list its lines` },
        [],
      );
      return;
    }
    let lines = 0;
    let created = 0;
    const changed: LineChange[] = [];
    let changedCount = 0;
    try {
      for await (const page of carrierLinePages({ db, registry }, loaded, 'inventory_sync', signal)) {
        const now = Date.now();
        const written = await devicesRepository(db).upsertFromCarrier(
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
            lastUsageAt: line.lastUsageAt ?? null,
          })),
          now,
        );
        created += written.created;
        changedCount += written.changed.length;
        changed.push(...written.changed.slice(0, MAX_CHANGES_AUDITED - changed.length));
        lines += page.length;
      }
    } catch (error) {
      await this.#finish(
        account.id,
        account.tenantId,
        {
          lines,
          created,
          changed: changedCount,
          error: error instanceof Error ? error.message : String(error),
        },
        changed,
      );
      throw error;
    }
    await this.#finish(
      account.id,
      account.tenantId,
      { lines, created, updated: lines - created, changed: changedCount },
      changed,
    );
  }

  /**
   * Records the sync on the account and in the audit log: the counts, and what changed on lines the
   * inventory already knew (before → after, the first `MAX_CHANGES_AUDITED` of them).
   */
  async #finish(
    carrierAccountId: string,
    tenantId: string,
    result: Record<string, unknown>,
    changes: LineChange[],
  ): Promise<void> {
    const now = Date.now();
    await inTransaction(this.#deps.db, async (tx) => {
      await carrierAccountsRepository(tx).recordInventorySync(carrierAccountId, now, result);
      await auditRepository(tx).append([
        auditEntryForEvent(
          { tenantId, bulkChangeId: null, deviceChangeId: null, carrierAccountId, actor: 'inventory_sync' },
          {
            action: 'inventory_sync',
            outcome: result.error ? 'failed' : 'success',
            detail: { ...result, changes, changesTruncated: Number(result.changed) > changes.length },
          },
          now,
        ),
      ]);
    });
    this.#deps.logger.info({ carrierAccountId, ...result }, 'inventory sync finished');
  }
}
