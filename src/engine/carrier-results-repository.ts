import type { ExpressionBuilder } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';

/** A carrier's result as stored, and the audit entry of the callback that brought it. */
export interface StoredResult {
  payload: Record<string, unknown>;
  auditEntryId: number | null;
}

const SLICE = 500;

/**
 * The carrier-results inbox: asynchronous results a carrier sends (callbacks), kept apart from the rows
 * so that none is lost to a race with the row's own step. A row waiting for a result that is already
 * here is made due at once.
 */
export function carrierResultsRepository(db: Executor) {
  return {
    /**
     * Keeps a result and makes the rows waiting for it due now. A repeated result changes nothing.
     * Returns the bulk changes to wake.
     */
    async save(options: {
      carrierAccountId: string;
      requestId: string;
      iccid: string;
      payload: Record<string, unknown>;
      now: number;
    }): Promise<{
      duplicate: boolean;
      bulkChangeIds: string[];
      carried: Array<{ id: string; bulkChangeId: string }>;
    }> {
      const inserted = await db
        .insertInto('carrier_results')
        .values({
          carrier_account_id: options.carrierAccountId,
          request_id: options.requestId,
          iccid: options.iccid,
          payload: JSON.stringify(options.payload),
          received_at: options.now,
        })
        .onConflict((conflict) => conflict.columns(['carrier_account_id', 'request_id', 'iccid']).doNothing())
        .executeTakeFirst();
      const rowsOfAccount = (eb: ExpressionBuilder<Database, 'device_changes'>) =>
        eb.selectFrom('bulk_changes').select('id').where('carrier_account_id', '=', options.carrierAccountId);
      // The rows that carry the result's request: the callback is on their timelines.
      const carried = await db
        .selectFrom('device_changes')
        .select(['id', 'bulk_change_id as bulkChangeId'])
        .where('carrier_request_id', '=', options.requestId)
        .where('iccid', '=', options.iccid)
        .where('bulk_change_id', 'in', rowsOfAccount)
        .execute();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
        return { duplicate: true, bulkChangeIds: [], carried };
      const woken = await db
        .updateTable('device_changes')
        .set({ next_check_at: options.now })
        .where('carrier_request_id', '=', options.requestId)
        .where('iccid', '=', options.iccid)
        .where('status', '=', 'waiting')
        .where('bulk_change_id', 'in', rowsOfAccount)
        .returning('bulk_change_id')
        .execute();
      return {
        duplicate: false,
        bulkChangeIds: [...new Set(woken.map((row) => row.bulk_change_id))],
        carried,
      };
    },

    /** Names the callback's audit entry on its stored result, for the row that takes it later. */
    async attachAuditEntry(
      key: { carrierAccountId: string; requestId: string; iccid: string },
      auditEntryId: number,
    ): Promise<void> {
      await db
        .updateTable('carrier_results')
        .set({ audit_entry_id: auditEntryId })
        .where('carrier_account_id', '=', key.carrierAccountId)
        .where('request_id', '=', key.requestId)
        .where('iccid', '=', key.iccid)
        .execute();
    },

    /** The stored results for these (request, ICCID) pairs, keyed `requestId|iccid`, with their audit entry. */
    async find(
      carrierAccountId: string,
      pairs: Array<{ requestId: string; iccid: string }>,
    ): Promise<Map<string, StoredResult>> {
      const found = new Map<string, StoredResult>();
      const requestIds = [...new Set(pairs.map((pair) => pair.requestId))];
      for (let start = 0; start < requestIds.length; start += SLICE) {
        const rows = await db
          .selectFrom('carrier_results')
          .select(['request_id', 'iccid', 'payload', 'audit_entry_id'])
          .where('carrier_account_id', '=', carrierAccountId)
          .where('request_id', 'in', requestIds.slice(start, start + SLICE))
          .execute();
        for (const row of rows)
          found.set(`${row.request_id}|${row.iccid}`, {
            payload: JSON.parse(row.payload),
            auditEntryId: row.audit_entry_id === null ? null : Number(row.audit_entry_id),
          });
      }
      return found;
    },

    /** Waiting rows among these whose carrier result has already arrived (a callback) are due now. */
    async wakeRowsWithResults(carrierAccountId: string, rowIds: string[], now: number): Promise<void> {
      for (let start = 0; start < rowIds.length; start += SLICE) {
        await db
          .updateTable('device_changes')
          .set({ next_check_at: now })
          .where('id', 'in', rowIds.slice(start, start + SLICE))
          .where('status', '=', 'waiting')
          .where('next_check_at', '>', now)
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('carrier_results')
                .select('carrier_results.request_id')
                .where('carrier_results.carrier_account_id', '=', carrierAccountId)
                .whereRef('carrier_results.request_id', '=', 'device_changes.carrier_request_id')
                .whereRef('carrier_results.iccid', '=', 'device_changes.iccid'),
            ),
          )
          .execute();
      }
    },
  };
}
