import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { auditEntryForEvent } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { advanceBulkChange, type Enqueue } from '../bulk-changes/jobs.ts';
import type { InboundCallback } from '../carriers/carrier.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { CarrierName } from '../core/change-types.ts';
import { AppError } from '../core/errors.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { carrierResultsRepository } from '../engine/carrier-results-repository.ts';

export interface CallbackReceipt {
  received: true;
  /** The same result came before; nothing changed. */
  duplicate: boolean;
}

/**
 * Inbound carrier callbacks, the same for every carrier (DESIGN §4.1): the carrier module says who
 * may post and what the callback says; here it is authenticated, kept in the carrier-results inbox,
 * audited, and the bulk changes waiting for it are woken, all in one transaction. A row busy at that
 * moment finds its result when it next looks.
 */
export class CallbackIngress {
  readonly #deps: { db: Db; accounts: CarrierAccounts; registry: CarrierRegistry; enqueue: Enqueue };

  constructor(deps: { db: Db; accounts: CarrierAccounts; registry: CarrierRegistry; enqueue: Enqueue }) {
    this.#deps = deps;
  }

  /** The carriers that post callbacks, for the routes. */
  carriers(): CarrierName[] {
    return this.#deps.registry
      .adapters()
      .filter((adapter) => adapter.callbacks)
      .map((adapter) => adapter.carrier);
  }

  async receive(
    carrier: CarrierName,
    carrierAccountId: string,
    callback: InboundCallback,
  ): Promise<CallbackReceipt> {
    const receiver = this.#deps.registry.adapter(carrier)?.callbacks;
    const loaded = await this.#deps.accounts.load(carrierAccountId);
    // One answer for an unknown account, another carrier's, and wrong credentials: nothing to probe.
    if (
      !receiver ||
      loaded?.account.carrier !== carrier ||
      !receiver.authenticate(loaded.account, callback)
    ) {
      throw new AppError('UNAUTHENTICATED', 'Unknown account or wrong callback credentials');
    }
    const { account } = loaded;
    const result = receiver.parse(callback.body);
    if (!result) throw new AppError('VALIDATION_FAILED', `Not a ${carrier} callback`);
    const now = Date.now();
    return inTransaction(this.#deps.db, async (tx) => {
      const key = result.iccid
        ? { carrierAccountId: account.id, requestId: result.requestId, iccid: result.iccid }
        : undefined;
      const results = carrierResultsRepository(tx);
      const saved = key
        ? await results.save({ ...key, payload: result.payload, now })
        : { duplicate: false, bulkChangeIds: [], carried: [] };
      const woken = saved.bulkChangeIds;
      const rowIds = saved.carried.map((row) => row.id);
      // On the timeline of every row that carries the request; a row that takes the result later
      // (it was busy, or its request id not yet saved) links itself through the stored result.
      const entryId = await auditRepository(tx).appendOne(
        auditEntryForEvent(
          {
            tenantId: account.tenantId,
            bulkChangeId: woken[0] ?? saved.carried[0]?.bulkChangeId ?? null,
            deviceChangeId: rowIds.length === 1 ? rowIds[0] : null,
            carrierAccountId: account.id,
            actor: carrier,
            ...(rowIds.length > 1 ? { rowIds } : {}),
          },
          {
            action: 'callback',
            outcome: !result.iccid
              ? 'unmatched'
              : saved.duplicate
                ? 'duplicate'
                : woken.length
                  ? 'success'
                  : 'stored',
            detail: result.audit,
          },
          now,
        ),
      );
      if (key && !saved.duplicate) await results.attachAuditEntry(key, entryId);
      for (const bulkChangeId of woken) {
        await this.#deps.enqueue(tx, advanceBulkChange.job({ bulkChangeId }));
      }
      return { received: true, duplicate: saved.duplicate };
    });
  }
}
