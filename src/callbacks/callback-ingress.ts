import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { auditEntryForEvent } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { advanceBulkChange, type Enqueue } from '../bulk-changes/jobs.ts';
import type { InboundCallback } from '../carriers/carrier.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type CarrierName, isCarrierName } from '../core/change-types.ts';
import { AppError } from '../core/errors.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { carrierResultsRepository } from '../engine/carrier-results-repository.ts';
import { reconciliationAfterCallbackTask } from '../reconciliation/reconciler.ts';

// One answer for an unknown account, another carrier's, and wrong credentials: nothing to probe.
const refused = () => new AppError('UNAUTHENTICATED', 'Unknown account or wrong callback credentials');

export interface CallbackIngressDeps {
  db: Db;
  accounts: CarrierAccounts;
  registry: CarrierRegistry;
  enqueue: Enqueue;
  /** How long a result no row carries waits before it counts as a change made outside bulkchange. */
  unmatchedSettleMs: number;
}

/** The answer to an authenticated callback. */
export const callbackReceiptSchema = z.object({
  received: z.literal(true),
  duplicate: z.boolean().describe('The same result came before; nothing changed'),
});
export type CallbackReceipt = z.infer<typeof callbackReceiptSchema>;

/**
 * Inbound carrier callbacks, the same for every carrier (DESIGN §4.1): the carrier module says who
 * may post and what the callback says; here it is authenticated, kept in the carrier-results inbox,
 * audited, and the bulk changes waiting for it are woken, all in one transaction. A row busy at that
 * moment finds its result when it next looks.
 */
export class CallbackIngress {
  readonly #deps: CallbackIngressDeps;

  constructor(deps: CallbackIngressDeps) {
    this.#deps = deps;
  }

  /** The carriers that post callbacks, for the routes. */
  carriers(): CarrierName[] {
    return this.#deps.registry
      .adapters()
      .filter((adapter) => adapter.callbacks)
      .map((adapter) => adapter.carrier);
  }

  /**
   * Before the body is read: refuses a callback for an unknown account or carrier, and one whose
   * `Authorization` header presents wrong credentials, so that nobody unauthenticated makes the server
   * read a body. A callback whose credentials are in its body (ThingSpace may send them there) passes
   * here and is judged by {@link receive}.
   */
  async admit(carrier: string, carrierAccountId: string, headers: InboundCallback['headers']): Promise<void> {
    const { account, receiver } = await this.#recipient(carrier, carrierAccountId);
    if (
      headers.authorization !== undefined &&
      !receiver.authenticate(account, { headers, body: undefined })
    ) {
      throw refused();
    }
  }

  async receive(
    carrier: CarrierName,
    carrierAccountId: string,
    callback: InboundCallback,
  ): Promise<CallbackReceipt> {
    const { account, receiver } = await this.#recipient(carrier, carrierAccountId);
    if (!receiver.authenticate(account, callback)) throw refused();
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
      // A result no row carries yet may be a change made outside bulkchange (ADR 0049), or one whose
      // row has not recorded its request yet: looked at again once that has had time.
      if (key && !saved.duplicate && saved.carried.length === 0) {
        await this.#deps.enqueue(
          tx,
          reconciliationAfterCallbackTask.job(
            { carrierAccountId: key.carrierAccountId, requestId: key.requestId, iccid: key.iccid },
            { runAt: now + this.#deps.unmatchedSettleMs },
          ),
        );
      }
      return { received: true, duplicate: saved.duplicate };
    });
  }

  /** The account a callback is for, and its carrier's receiver; refused when either is unknown. */
  async #recipient(carrier: string, carrierAccountId: string) {
    const receiver = isCarrierName(carrier) ? this.#deps.registry.adapter(carrier)?.callbacks : undefined;
    const loaded = receiver ? await this.#deps.accounts.load(carrierAccountId) : undefined;
    if (!receiver || !loaded || loaded.account.carrier !== carrier) throw refused();
    return { account: loaded.account, receiver };
  }
}
