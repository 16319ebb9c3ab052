import { type Insertable, type Selectable, sql } from 'kysely';
import type { RowError, WorkRow } from '../carriers/carrier.ts';
import type { Dialect, Executor } from '../db/database.ts';
import type { BulkChangeTable, DeviceChangeTable } from '../db/schema.ts';

export type BulkChangeRow = Selectable<BulkChangeTable>;
export type DeviceChangeRow = Selectable<DeviceChangeTable>;
export type NewDeviceChange = Insertable<DeviceChangeTable>;

export const bulkStatuses = [
  'scheduled',
  'queued',
  'processing',
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const;
export type BulkStatus = (typeof bulkStatuses)[number];
export const terminalBulkStatuses: readonly BulkStatus[] = [
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
];

export const rowStatuses = ['queued', 'in_progress', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type RowStatus = (typeof rowStatuses)[number];

export type Counts = Record<
  'total' | 'queued' | 'inProgress' | 'waiting' | 'succeeded' | 'failed' | 'cancelled',
  number
>;

/** Where each row status is counted in a bulk change's `counts`. */
export const countKey: Record<RowStatus, keyof Counts> = {
  queued: 'queued',
  in_progress: 'inProgress',
  waiting: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const emptyCounts = (): Counts => ({
  total: 0,
  queued: 0,
  inProgress: 0,
  waiting: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
});

export const toWorkRow = (row: DeviceChangeRow): WorkRow => ({
  id: row.id,
  rowNumber: row.row_number,
  deviceId: row.device_id,
  iccid: row.iccid,
  imei: row.imei,
  msisdn: row.msisdn,
  eid: row.eid,
  request: JSON.parse(row.request),
  step: row.step,
  attempts: row.attempts,
  carrierRequestId: row.carrier_request_id,
  waitingSince: row.waiting_since,
  result: row.result ? JSON.parse(row.result) : null,
});

export interface BulkChangeFilter {
  status?: string;
  changeType?: string;
  carrierAccountId?: string;
  cursor?: string;
  limit: number;
}

/** A row's new state after a step, fenced by the claim that produced it. */
export interface RowTransition {
  id: string;
  status: RowStatus;
  step?: string;
  nextCheckAt?: number | null;
  waitingSince?: number | null;
  carrierRequestId?: string;
  error?: RowError | null;
  result?: Record<string, unknown> | null;
  /** Only for rows that stay `in_progress`: when they are next reconciled. */
  leaseUntil?: number;
}

const INSERT_SLICE = 500;

export function bulkChangesRepository(db: Executor, dialect: Dialect) {
  const due = (bulkChangeId: string, status: RowStatus, now: number) =>
    db
      .selectFrom('device_changes')
      .where('bulk_change_id', '=', bulkChangeId)
      .where('status', '=', status)
      .where((eb) => eb.or([eb('next_check_at', 'is', null), eb('next_check_at', '<=', now)]));

  return {
    async insertBulkChange(row: Insertable<BulkChangeTable>): Promise<void> {
      await db.insertInto('bulk_changes').values(row).execute();
    },

    async insertDeviceChanges(rows: NewDeviceChange[]): Promise<void> {
      for (let start = 0; start < rows.length; start += INSERT_SLICE) {
        await db
          .insertInto('device_changes')
          .values(rows.slice(start, start + INSERT_SLICE))
          .execute();
      }
    },

    async find(tenantId: string, id: string): Promise<BulkChangeRow | undefined> {
      return db
        .selectFrom('bulk_changes')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async findById(id: string): Promise<BulkChangeRow | undefined> {
      return db.selectFrom('bulk_changes').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async findByIdempotencyKey(tenantId: string, key: string): Promise<BulkChangeRow | undefined> {
      return db
        .selectFrom('bulk_changes')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },

    /** Newest first; the cursor is the last id of the previous page. */
    async list(tenantId: string, filter: BulkChangeFilter): Promise<BulkChangeRow[]> {
      let query = db.selectFrom('bulk_changes').selectAll().where('tenant_id', '=', tenantId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.changeType) query = query.where('change_type', '=', filter.changeType);
      if (filter.carrierAccountId) query = query.where('carrier_account_id', '=', filter.carrierAccountId);
      if (filter.cursor) query = query.where('id', '<', filter.cursor);
      return query.orderBy('id', 'desc').limit(filter.limit).execute();
    },

    async update(id: string, patch: Partial<Omit<BulkChangeTable, 'id'>>): Promise<void> {
      await db
        .updateTable('bulk_changes')
        .set({ ...patch, updated_at: patch.updated_at ?? Date.now() })
        .where('id', '=', id)
        .execute();
    },

    /** Counters are always derived from the rows (fixes the original's B1). */
    async counts(bulkChangeId: string): Promise<Counts> {
      const rows = await db
        .selectFrom('device_changes')
        .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
        .where('bulk_change_id', '=', bulkChangeId)
        .groupBy('status')
        .execute();
      const counts = emptyCounts();
      for (const row of rows) {
        counts[countKey[row.status as RowStatus]] += Number(row.count);
        counts.total += Number(row.count);
      }
      return counts;
    },

    async listChanges(
      bulkChangeId: string,
      filter: { status?: string; afterRow?: number; limit: number },
    ): Promise<DeviceChangeRow[]> {
      let query = db.selectFrom('device_changes').selectAll().where('bulk_change_id', '=', bulkChangeId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.afterRow !== undefined) query = query.where('row_number', '>', filter.afterRow);
      return query.orderBy('row_number').limit(filter.limit).execute();
    },

    async findChange(bulkChangeId: string, changeId: string): Promise<DeviceChangeRow | undefined> {
      return db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('id', '=', changeId)
        .executeTakeFirst();
    },

    /**
     * The first of the flow's steps, in its order, that has rows due: a chunk holds one step only, and
     * earlier steps go first so that later ones gather every row (add all, then activate all at once).
     */
    async firstDueStep(bulkChangeId: string, status: 'queued' | 'waiting', now: number, steps: string[]) {
      for (const step of steps) {
        const row = await due(bulkChangeId, status, now)
          .select('id')
          .where('step', '=', step)
          .limit(1)
          .executeTakeFirst();
        if (row) return step;
      }
      return undefined;
    },

    /**
     * Marks a chunk of due rows `in_progress` under one attempt id before any carrier call
     * (DESIGN §2.3). Queued rows count an attempt; waiting rows are only re-checked.
     */
    async claimDue(options: {
      bulkChangeId: string;
      status: 'queued' | 'waiting';
      step: string;
      now: number;
      limit: number;
      attemptId: string;
      leaseUntil: number;
    }): Promise<DeviceChangeRow[]> {
      let candidates = due(options.bulkChangeId, options.status, options.now)
        .select('id')
        .where('step', '=', options.step)
        .orderBy('row_number')
        .limit(options.limit);
      if (dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
      return db
        .updateTable('device_changes')
        .set((eb) => ({
          status: 'in_progress',
          attempt_id: options.attemptId,
          lease_until: options.leaseUntil,
          attempts: options.status === 'queued' ? eb('attempts', '+', 1) : eb.ref('attempts'),
          updated_at: options.now,
        }))
        .where('id', 'in', candidates)
        .returningAll()
        .execute();
    },

    /** Rows left `in_progress` by a worker that died (their lease ran out), re-leased for reconciliation. */
    async claimStale(options: {
      bulkChangeId: string;
      now: number;
      limit: number;
      attemptId: string;
      leaseUntil: number;
    }): Promise<DeviceChangeRow[]> {
      let candidates = db
        .selectFrom('device_changes')
        .select('id')
        .where('bulk_change_id', '=', options.bulkChangeId)
        .where('status', '=', 'in_progress')
        .where('lease_until', '<', options.now)
        .orderBy('row_number')
        .limit(options.limit);
      if (dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
      return db
        .updateTable('device_changes')
        .set((eb) => ({
          attempt_id: options.attemptId,
          lease_until: options.leaseUntil,
          // A reconciliation counts as an attempt, so a line the carrier never answers for cannot loop.
          attempts: eb('attempts', '+', 1),
          updated_at: options.now,
        }))
        .where('id', 'in', candidates)
        .returningAll()
        .execute();
    },

    async extendLease(attemptId: string, leaseUntil: number): Promise<void> {
      await db
        .updateTable('device_changes')
        .set({ lease_until: leaseUntil })
        .where('attempt_id', '=', attemptId)
        .where('status', '=', 'in_progress')
        .execute();
    },

    /** Applies a row's outcome only if the row still belongs to this claim. Returns whether it did. */
    async transition(attemptId: string, change: RowTransition, at: number): Promise<boolean> {
      const result = await db
        .updateTable('device_changes')
        .set({
          status: change.status,
          ...(change.step !== undefined ? { step: change.step } : {}),
          ...(change.nextCheckAt !== undefined ? { next_check_at: change.nextCheckAt } : {}),
          ...(change.waitingSince !== undefined ? { waiting_since: change.waitingSince } : {}),
          ...(change.carrierRequestId !== undefined ? { carrier_request_id: change.carrierRequestId } : {}),
          ...(change.error !== undefined
            ? {
                error_code: change.error?.code ?? null,
                error_message: change.error?.message ?? null,
                error_carrier_code: change.error?.carrierCode ?? null,
              }
            : {}),
          ...(change.result !== undefined
            ? { result: change.result ? JSON.stringify(change.result) : null }
            : {}),
          attempt_id: null,
          lease_until: change.leaseUntil ?? null,
          updated_at: at,
        })
        .where('id', '=', change.id)
        .where('attempt_id', '=', attemptId)
        .where('status', '=', 'in_progress')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Notes the carrier request that carries these rows, while they are still claimed by this attempt. */
    async recordRequest(attemptId: string, rowIds: string[], requestId: string): Promise<void> {
      for (let start = 0; start < rowIds.length; start += INSERT_SLICE) {
        await db
          .updateTable('device_changes')
          .set({ carrier_request_id: requestId })
          .where('attempt_id', '=', attemptId)
          .where('id', 'in', rowIds.slice(start, start + INSERT_SLICE))
          .execute();
      }
    },

    /**
     * Ends every row not yet sent with the same error: writes disabled, credentials refused. Rows
     * waiting on the carrier are left to be confirmed: their change may already have happened.
     */
    async failOpenRows(bulkChangeId: string, error: RowError, at: number): Promise<number> {
      const result = await db
        .updateTable('device_changes')
        .set({
          status: 'failed',
          error_code: error.code,
          error_message: error.message,
          error_carrier_code: error.carrierCode ?? null,
          next_check_at: null,
          updated_at: at,
        })
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async cancelQueuedRows(bulkChangeId: string, at: number): Promise<number> {
      const result = await db
        .updateTable('device_changes')
        .set({ status: 'cancelled', next_check_at: null, updated_at: at })
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * When the bulk change next has work: the earliest due row, or the earliest lease to expire. One
     * statement, so a row moving between states in another transaction cannot slip between two reads.
     */
    async nextWake(bulkChangeId: string): Promise<{ open: boolean; at: number | null }> {
      const row = await db
        .selectFrom('device_changes')
        .select([
          sql<number>`count(*)`.as('open'),
          sql<
            number | null
          >`min(case when status = 'in_progress' then lease_until else coalesce(next_check_at, 0) end)`.as(
            'at',
          ),
        ])
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', 'in', ['queued', 'waiting', 'in_progress'])
        .executeTakeFirstOrThrow();
      return { open: Number(row.open) > 0, at: row.at === null ? null : Number(row.at) };
    },

    /** Serialises the transactions that settle a bulk change (PostgreSQL; SQLite has one writer). */
    async lock(bulkChangeId: string): Promise<void> {
      if (dialect === 'postgres') {
        await db.selectFrom('bulk_changes').select('id').where('id', '=', bulkChangeId).forUpdate().execute();
      }
    },

    /** Ends a bulk change, unless it already has ended. */
    async finish(
      id: string,
      patch: { status: BulkStatus; completed_at: number; started_at: number },
    ): Promise<void> {
      await db
        .updateTable('bulk_changes')
        .set({ ...patch, updated_at: patch.completed_at })
        .where('id', '=', id)
        .where('status', 'not in', [...terminalBulkStatuses])
        .execute();
    },

    /**
     * Keeps a carrier's asynchronous result (a callback) and makes the rows waiting for it due now.
     * A repeated result changes nothing. Returns the bulk changes to wake.
     */
    async saveCarrierResult(options: {
      carrierAccountId: string;
      requestId: string;
      iccid: string;
      payload: Record<string, unknown>;
      now: number;
    }): Promise<{ duplicate: boolean; bulkChangeIds: string[] }> {
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
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return { duplicate: true, bulkChangeIds: [] };
      const woken = await db
        .updateTable('device_changes')
        .set({ next_check_at: options.now })
        .where('carrier_request_id', '=', options.requestId)
        .where('iccid', '=', options.iccid)
        .where('status', '=', 'waiting')
        .where('bulk_change_id', 'in', (eb) =>
          eb
            .selectFrom('bulk_changes')
            .select('id')
            .where('carrier_account_id', '=', options.carrierAccountId),
        )
        .returning('bulk_change_id')
        .execute();
      return { duplicate: false, bulkChangeIds: [...new Set(woken.map((row) => row.bulk_change_id))] };
    },

    /** The stored carrier results for these (request, ICCID) pairs, keyed `requestId|iccid`. */
    async carrierResults(
      carrierAccountId: string,
      pairs: Array<{ requestId: string; iccid: string }>,
    ): Promise<Map<string, Record<string, unknown>>> {
      const found = new Map<string, Record<string, unknown>>();
      const requestIds = [...new Set(pairs.map((pair) => pair.requestId))];
      for (let start = 0; start < requestIds.length; start += INSERT_SLICE) {
        const rows = await db
          .selectFrom('carrier_results')
          .select(['request_id', 'iccid', 'payload'])
          .where('carrier_account_id', '=', carrierAccountId)
          .where('request_id', 'in', requestIds.slice(start, start + INSERT_SLICE))
          .execute();
        for (const row of rows) found.set(`${row.request_id}|${row.iccid}`, JSON.parse(row.payload));
      }
      return found;
    },

    /** Marks a bulk change as retried by another; false when it already was. */
    async markRetried(id: string, retryId: string): Promise<boolean> {
      const result = await db
        .updateTable('bulk_changes')
        .set({ retried_as_id: retryId })
        .where('id', '=', id)
        .where('retried_as_id', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** A page of a bulk change's rows, in row order, after a row number. */
    async rowsAfter(bulkChangeId: string, afterRow: number, limit: number): Promise<DeviceChangeRow[]> {
      return db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('row_number', '>', afterRow)
        .orderBy('row_number')
        .limit(limit)
        .execute();
    },

    async failedRows(bulkChangeId: string): Promise<DeviceChangeRow[]> {
      return db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', 'failed')
        .orderBy('row_number')
        .execute();
    },

    /** Waiting rows among these whose carrier result has already arrived (a callback) are due now. */
    async wakeRowsWithResults(carrierAccountId: string, rowIds: string[], now: number): Promise<void> {
      for (let start = 0; start < rowIds.length; start += 500) {
        await db
          .updateTable('device_changes')
          .set({ next_check_at: now })
          .where('id', 'in', rowIds.slice(start, start + 500))
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

    /** The rows a bulk change already holds for these lines (by device), with their row numbers. */
    async rowsForDevices(bulkChangeId: string, deviceIds: string[]): Promise<Map<string, number>> {
      const rows = new Map<string, number>();
      for (let start = 0; start < deviceIds.length; start += 500) {
        // By device only (its index): a filter on the bulk change lets SQLite scan the change's rows.
        const found = await db
          .selectFrom('device_changes')
          .select(['device_id', 'row_number', 'bulk_change_id'])
          .where('device_id', 'in', deviceIds.slice(start, start + 500))
          .execute();
        for (const row of found) {
          if (row.device_id && row.bulk_change_id === bulkChangeId) rows.set(row.device_id, row.row_number);
        }
      }
      return rows;
    },

    /**
     * How many changes of these types each line has had (done or under way) since a time, across the
     * account's bulk changes: what a carrier's per-line quota counts.
     */
    async changesSince(options: {
      carrierAccountId: string;
      deviceIds: string[];
      changeTypes: readonly string[];
      since: number;
    }): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      for (let start = 0; start < options.deviceIds.length; start += 500) {
        const rows = await db
          .selectFrom('device_changes')
          .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
          .select(['device_changes.device_id', (eb) => eb.fn.countAll<number>().as('count')])
          .where('bulk_changes.carrier_account_id', '=', options.carrierAccountId)
          .where('bulk_changes.change_type', 'in', [...options.changeTypes])
          .where('device_changes.device_id', 'in', options.deviceIds.slice(start, start + 500))
          .where('device_changes.status', 'in', ['succeeded', 'queued', 'in_progress', 'waiting'])
          .where('device_changes.updated_at', '>=', options.since)
          .groupBy('device_changes.device_id')
          .execute();
        for (const row of rows) if (row.device_id) counts.set(row.device_id, Number(row.count));
      }
      return counts;
    },

    /** Lines of the account that another unfinished bulk change is working on. */
    async linesInRunningChanges(
      carrierAccountId: string,
      deviceIds: string[],
      /** The bulk change being written, whose own rows do not count. */
      except?: string,
    ): Promise<Map<string, string>> {
      const busy = new Map<string, string>();
      for (let start = 0; start < deviceIds.length; start += 500) {
        const rows = await db
          .selectFrom('device_changes')
          .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
          .select(['device_changes.device_id', 'bulk_changes.id as bulk_change_id'])
          .where('bulk_changes.carrier_account_id', '=', carrierAccountId)
          .where('device_changes.device_id', 'in', deviceIds.slice(start, start + 500))
          .where('device_changes.status', 'in', ['queued', 'in_progress', 'waiting'])
          .execute();
        for (const row of rows) {
          if (row.device_id && row.bulk_change_id !== except) busy.set(row.device_id, row.bulk_change_id);
        }
      }
      return busy;
    },
  };
}
