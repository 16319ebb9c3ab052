import type { Updateable } from 'kysely';
import type { Approval, BulkChange, DeviceChange, NewDeviceChange, Pause } from '../core/bulk-change.ts';
import type { ChangeType } from '../core/change-types.ts';
import {
  type BulkStatus,
  type Counts,
  countKey,
  emptyCounts,
  openRowStatuses,
  type RowStatus,
  runningBulkStatuses,
} from '../core/statuses.ts';
import type { WavePlan, WaveProgress } from '../core/waves.ts';
import type { Executor } from '../db/database.ts';
import type { BulkChangeRow, BulkChangeTable, DeviceChangeRow, NewDeviceChangeRow } from '../db/schema.ts';

/** Where each row status is counted on the bulk change (kept with the rows, DESIGN §2.4). */
const countColumns = {
  queued: 'queued_count',
  in_progress: 'in_progress_count',
  waiting: 'waiting_count',
  succeeded: 'succeeded_count',
  failed: 'failed_count',
  cancelled: 'cancelled_count',
} as const satisfies Record<RowStatus, keyof BulkChangeTable>;

/** The counts kept on a bulk change's row. */
const countsOf = (row: BulkChangeRow): Counts => {
  const counts = emptyCounts();
  for (const [status, column] of Object.entries(countColumns) as Array<[RowStatus, keyof BulkChangeRow]>) {
    counts[countKey[status]] = Number(row[column]);
    counts.total += Number(row[column]);
  }
  return counts;
};

/** A bulk change as the store holds it, for the rooms above it. */
export const toBulkChange = (row: BulkChangeRow): BulkChange => ({
  id: row.id,
  tenantId: row.tenant_id,
  carrierAccountId: row.carrier_account_id,
  changeType: row.change_type,
  status: row.status,
  name: row.name,
  options: JSON.parse(row.options),
  createdBy: row.created_by,
  createdByActor: row.created_by_actor,
  createdAt: row.created_at,
  scheduledFor: row.scheduled_for,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  cancelRequestedAt: row.cancel_requested_at,
  parentId: row.parent_id,
  linkedId: row.linked_id,
  retriedAsId: row.retried_as_id,
  undoOf: row.undo_of,
  undoneAsId: row.undone_as_id,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  totalCount: row.total_count,
  failureReason: row.failure_reason,
  notifyEmails: row.notify_emails ? JSON.parse(row.notify_emails) : [],
  pause:
    row.status === 'paused' && row.pause_reason
      ? {
          reason: row.pause_reason,
          by: row.paused_by ?? '',
          at: Number(row.paused_at),
          detail: row.pause_detail ? JSON.parse(row.pause_detail) : {},
        }
      : null,
  waves: row.waves ? JSON.parse(row.waves) : null,
  destructiveAction: row.destructive_action,
  approval: row.approval ? JSON.parse(row.approval) : null,
  counts: countsOf(row),
  updatedAt: row.updated_at,
});

/** How many rows moved into (+) and out of (−) each status. */
export type CountsDelta = Partial<Record<RowStatus, number>>;

/** The delta of moving `count` rows from one status to another. */
export const moved = (from: RowStatus, to: RowStatus, count: number): CountsDelta =>
  from === to || count === 0 ? {} : { [from]: -count, [to]: count };

/** Adds deltas up, for one update of the counts. */
export function sumDeltas(deltas: Iterable<CountsDelta>): CountsDelta {
  const total: CountsDelta = {};
  for (const delta of deltas)
    for (const [status, count] of Object.entries(delta) as Array<[RowStatus, number]>)
      total[status] = (total[status] ?? 0) + count;
  return total;
}

export const toDeviceChange = (row: DeviceChangeRow): DeviceChange => ({
  id: row.id,
  tenantId: row.tenant_id,
  bulkChangeId: row.bulk_change_id,
  rowNumber: row.row_number,
  deviceId: row.device_id,
  iccid: row.iccid,
  imei: row.imei,
  msisdn: row.msisdn,
  eid: row.eid,
  request: JSON.parse(row.request),
  status: row.status,
  step: row.step,
  attempts: row.attempts,
  nextCheckAt: row.next_check_at,
  waitingSince: row.waiting_since,
  carrierRequestId: row.carrier_request_id,
  error: row.error_code
    ? {
        code: row.error_code,
        message: row.error_message ?? '',
        ...(row.error_carrier_code ? { carrierCode: row.error_carrier_code } : {}),
      }
    : null,
  result: row.result ? JSON.parse(row.result) : null,
  updatedAt: row.updated_at,
});

const deviceChangeRow = (change: NewDeviceChange, now: number): NewDeviceChangeRow => ({
  id: change.id,
  tenant_id: change.tenantId,
  bulk_change_id: change.bulkChangeId,
  row_number: change.rowNumber,
  device_id: change.deviceId,
  iccid: change.iccid,
  imei: change.imei,
  msisdn: change.msisdn,
  eid: change.eid,
  request: JSON.stringify(change.request),
  status: change.status,
  step: change.step,
  attempts: 0,
  next_check_at: change.nextCheckAt ?? null,
  error_code: change.error?.code ?? null,
  error_message: change.error?.message ?? null,
  error_carrier_code: change.error?.carrierCode ?? null,
  updated_at: now,
});

export interface NewBulkChange {
  id: string;
  tenantId: string;
  carrierAccountId: string;
  changeType: ChangeType;
  /** Given by its creator; absent: named from what it does when shown. */
  name?: string | null;
  options: Record<string, unknown>;
  createdBy: string;
  createdByActor: string;
  createdAt: number;
  idempotencyKey: string | null;
  parentId: string | null;
  linkedId: string | null;
  /** The bulk change it reverses, when it is an undo. */
  undoOf?: string;
  /** Addresses told by e-mail when it ends (none when absent). */
  notifyEmails?: string[];
  /** Sent in canary waves; the first opens when its rows are all written (`bulkChangeWriter.end`). */
  wavePlan?: WavePlan;
}

/** What the lifecycle may change on a bulk change once written. */
export type BulkChangePatch = Partial<
  Pick<
    BulkChange,
    | 'status'
    | 'totalCount'
    | 'requestHash'
    | 'scheduledFor'
    | 'startedAt'
    | 'cancelRequestedAt'
    | 'linkedId'
    | 'destructiveAction'
    | 'approval'
  >
>;

const patchColumns = (patch: BulkChangePatch): Updateable<BulkChangeTable> => ({
  ...(patch.status !== undefined ? { status: patch.status } : {}),
  ...(patch.totalCount !== undefined ? { total_count: patch.totalCount } : {}),
  ...(patch.requestHash !== undefined ? { request_hash: patch.requestHash } : {}),
  ...(patch.scheduledFor !== undefined ? { scheduled_for: patch.scheduledFor } : {}),
  ...(patch.startedAt !== undefined ? { started_at: patch.startedAt } : {}),
  ...(patch.cancelRequestedAt !== undefined ? { cancel_requested_at: patch.cancelRequestedAt } : {}),
  ...(patch.linkedId !== undefined ? { linked_id: patch.linkedId } : {}),
  ...(patch.destructiveAction !== undefined ? { destructive_action: patch.destructiveAction } : {}),
  ...(patch.approval !== undefined ? { approval: patch.approval && JSON.stringify(patch.approval) } : {}),
});

export interface BulkChangeFilter {
  status?: BulkStatus;
  changeType?: ChangeType;
  carrierAccountId?: string;
  cursor?: string;
  limit: number;
}

const INSERT_SLICE = 500;
/** SQLite allows 32k bound parameters; lookups go in slices well below that. */
const LOOKUP_SLICE = 500;

/** Bulk changes and their rows as intake writes them and the API and portal read them. */
export function bulkChangesRepository(db: Executor) {
  /** Moves the counts as rows change status, in the caller's transaction. */
  const moveCounts = async (bulkChangeId: string, delta: CountsDelta): Promise<void> => {
    const changes = (Object.entries(delta) as Array<[RowStatus, number]>).filter(([, count]) => count !== 0);
    if (changes.length === 0) return;
    await db
      .updateTable('bulk_changes')
      .set((eb) =>
        Object.fromEntries(
          changes.map(([status, count]) => [countColumns[status], eb(countColumns[status], '+', count)]),
        ),
      )
      .where('id', '=', bulkChangeId)
      .execute();
  };

  return {
    async insertBulkChange(change: NewBulkChange): Promise<void> {
      await db
        .insertInto('bulk_changes')
        .values({
          id: change.id,
          tenant_id: change.tenantId,
          carrier_account_id: change.carrierAccountId,
          change_type: change.changeType,
          status: 'queued',
          name: change.name ?? null,
          options: JSON.stringify(change.options),
          created_by: change.createdBy,
          created_by_actor: change.createdByActor,
          created_at: change.createdAt,
          scheduled_for: null,
          parent_id: change.parentId,
          linked_id: change.linkedId,
          undo_of: change.undoOf ?? null,
          notify_emails: change.notifyEmails?.length ? JSON.stringify(change.notifyEmails) : null,
          ...(change.wavePlan
            ? {
                // Nothing may be sent before the first wave is opened, in the same transaction.
                waves: JSON.stringify({
                  plan: change.wavePlan,
                  current: -1,
                  afterRow: 0,
                  toRow: 0,
                  reached: 0,
                  results: [],
                } satisfies WaveProgress),
                wave_to_row: 0,
              }
            : {}),
          idempotency_key: change.idempotencyKey,
          request_hash: null,
          total_count: 0,
          updated_at: change.createdAt,
        })
        .execute();
    },

    /** New rows, counted on their bulk change (in the caller's transaction). */
    async insertDeviceChanges(changes: NewDeviceChange[], now: number): Promise<void> {
      for (let start = 0; start < changes.length; start += INSERT_SLICE) {
        await db
          .insertInto('device_changes')
          .values(changes.slice(start, start + INSERT_SLICE).map((change) => deviceChangeRow(change, now)))
          .execute();
      }
      const byChange = Map.groupBy(changes, (change) => change.bulkChangeId);
      for (const [bulkChangeId, rows] of byChange) {
        await moveCounts(bulkChangeId, sumDeltas(rows.map((row): CountsDelta => ({ [row.status]: 1 }))));
      }
    },

    async find(tenantId: string, id: string): Promise<BulkChange | undefined> {
      const row = await db
        .selectFrom('bulk_changes')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toBulkChange(row);
    },

    /** For the engine, which works from a job naming a bulk change that is already tenant-scoped. */
    async findById(id: string): Promise<BulkChange | undefined> {
      const row = await db.selectFrom('bulk_changes').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toBulkChange(row);
    },

    async findByIdempotencyKey(tenantId: string, key: string): Promise<BulkChange | undefined> {
      const row = await db
        .selectFrom('bulk_changes')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      return row && toBulkChange(row);
    },

    /** Newest first; the cursor is the last id of the previous page. */
    async list(tenantId: string, filter: BulkChangeFilter): Promise<BulkChange[]> {
      let query = db.selectFrom('bulk_changes').selectAll().where('tenant_id', '=', tenantId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.changeType) query = query.where('change_type', '=', filter.changeType);
      if (filter.carrierAccountId) query = query.where('carrier_account_id', '=', filter.carrierAccountId);
      if (filter.cursor) query = query.where('id', '<', filter.cursor);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toBulkChange);
    },

    async update(id: string, patch: BulkChangePatch, now = Date.now()): Promise<void> {
      await db
        .updateTable('bulk_changes')
        .set({ ...patchColumns(patch), updated_at: now })
        .where('id', '=', id)
        .execute();
    },

    /** Moves a scheduled or queued change to processing; false when another job already did. */
    async start(id: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('bulk_changes')
        .set({ status: 'processing', started_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', ['scheduled', 'queued'])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Pauses a running bulk change (or turns another pause into `pause`'s, say a person's hold over the
     * circuit's); false when it has finished, or is already paused and `over` does not name its reason.
     */
    async pause(id: string, pause: Pause, over: readonly Pause['reason'][] = []): Promise<boolean> {
      const result = await db
        .updateTable('bulk_changes')
        .set({
          status: 'paused',
          pause_reason: pause.reason,
          paused_by: pause.by,
          paused_at: pause.at,
          pause_detail: JSON.stringify(pause.detail),
          updated_at: pause.at,
        })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('status', 'in', [...runningBulkStatuses]),
            ...(over.length > 0
              ? [eb.and([eb('status', '=', 'paused'), eb('pause_reason', 'in', [...over])])]
              : []),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Ends a pause (of `reason` only, when given): the change goes back to `status`; false when it was not paused. */
    async resume(
      id: string,
      status: 'scheduled' | 'queued' | 'processing',
      at: number,
      reason?: Pause['reason'],
    ): Promise<boolean> {
      let query = db
        .updateTable('bulk_changes')
        .set({
          status,
          pause_reason: null,
          paused_by: null,
          paused_at: null,
          pause_detail: null,
          updated_at: at,
        })
        .where('id', '=', id)
        .where('status', '=', 'paused');
      if (reason) query = query.where('pause_reason', '=', reason);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Records the decision on a change `awaiting_approval`: it goes on (`queued`, `scheduled`) or ends
     * (`cancelled`, a rejection). False when it was not awaiting approval: decided already, or cancelled.
     */
    async decideApproval(
      id: string,
      decision: { status: 'queued' | 'scheduled' | 'cancelled'; approval: Approval; at: number },
    ): Promise<boolean> {
      const ends = decision.status === 'cancelled';
      const result = await db
        .updateTable('bulk_changes')
        .set({
          status: decision.status,
          approval: JSON.stringify(decision.approval),
          updated_at: decision.at,
          ...(ends ? { completed_at: decision.at, cancel_requested_at: decision.at } : {}),
        })
        .where('id', '=', id)
        .where('status', '=', 'awaiting_approval')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Where the change is in its waves; `toRow` is also the gate the claim reads. */
    async setWaves(id: string, progress: WaveProgress, now: number): Promise<void> {
      await db
        .updateTable('bulk_changes')
        .set({ waves: JSON.stringify(progress), wave_to_row: progress.toRow, updated_at: now })
        .where('id', '=', id)
        .execute();
    },

    /** The row number of the change's `n`-th row (1-based, in row order). */
    async rowNumberAt(bulkChangeId: string, n: number): Promise<number | undefined> {
      const row = await db
        .selectFrom('device_changes')
        .select('row_number')
        .where('bulk_change_id', '=', bulkChangeId)
        .orderBy('row_number')
        .offset(n - 1)
        .limit(1)
        .executeTakeFirst();
      return row?.row_number;
    },

    moveCounts,

    /** A page of a bulk change's rows, in row order, after a row number. */
    async listChanges(
      bulkChangeId: string,
      filter: { status?: RowStatus; afterRow?: number; limit: number },
    ): Promise<DeviceChange[]> {
      let query = db.selectFrom('device_changes').selectAll().where('bulk_change_id', '=', bulkChangeId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.afterRow !== undefined) query = query.where('row_number', '>', filter.afterRow);
      const rows = await query.orderBy('row_number').limit(filter.limit).execute();
      return rows.map(toDeviceChange);
    },

    async findChange(bulkChangeId: string, changeId: string): Promise<DeviceChange | undefined> {
      const row = await db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('id', '=', changeId)
        .executeTakeFirst();
      return row && toDeviceChange(row);
    },

    /** The bulk change's rows for these lines, in row order. */
    async changesForDevices(bulkChangeId: string, deviceIds: string[]): Promise<DeviceChange[]> {
      if (deviceIds.length === 0) return [];
      const rows = await db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('device_id', 'in', deviceIds)
        .orderBy('row_number')
        .execute();
      return rows.map(toDeviceChange);
    },

    /** Rows not yet sent are cancelled; rows already with the carrier finish (DESIGN §5). */
    async cancelQueuedRows(bulkChangeId: string, at: number): Promise<number> {
      const result = await db
        .updateTable('device_changes')
        .set({ status: 'cancelled', next_check_at: null, updated_at: at })
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      const cancelled = Number(result.numUpdatedRows);
      await moveCounts(bulkChangeId, moved('queued', 'cancelled', cancelled));
      return cancelled;
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

    /** Marks a bulk change as undone by another; false when it already was. */
    async markUndone(id: string, undoId: string): Promise<boolean> {
      const result = await db
        .updateTable('bulk_changes')
        .set({ undone_as_id: undoId })
        .where('id', '=', id)
        .where('undone_as_id', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async failedRows(bulkChangeId: string): Promise<DeviceChange[]> {
      const rows = await db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', 'failed')
        .orderBy('row_number')
        .execute();
      return rows.map(toDeviceChange);
    },

    /** The rows a bulk change already holds for these lines (by device), with their row numbers. */
    async rowsForDevices(bulkChangeId: string, deviceIds: string[]): Promise<Map<string, number>> {
      const rows = new Map<string, number>();
      for (let start = 0; start < deviceIds.length; start += LOOKUP_SLICE) {
        // By device only (its index): a filter on the bulk change lets SQLite scan the change's rows.
        const found = await db
          .selectFrom('device_changes')
          .select(['device_id', 'row_number', 'bulk_change_id'])
          .where('device_id', 'in', deviceIds.slice(start, start + LOOKUP_SLICE))
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
      changeTypes: readonly ChangeType[];
      since: number;
    }): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      for (let start = 0; start < options.deviceIds.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('device_changes')
          .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
          .select(['device_changes.device_id', (eb) => eb.fn.countAll<number>().as('count')])
          .where('bulk_changes.carrier_account_id', '=', options.carrierAccountId)
          .where('bulk_changes.change_type', 'in', [...options.changeTypes])
          .where('device_changes.device_id', 'in', options.deviceIds.slice(start, start + LOOKUP_SLICE))
          .where('device_changes.status', 'in', ['succeeded', ...openRowStatuses])
          .where('device_changes.updated_at', '>=', options.since)
          .groupBy('device_changes.device_id')
          .execute();
        for (const row of rows) if (row.device_id) counts.set(row.device_id, Number(row.count));
      }
      return counts;
    },

    /** Whether a row of the account sent the carrier request `requestId` for the line. */
    async carriesRequest(carrierAccountId: string, requestId: string, iccid: string): Promise<boolean> {
      const row = await db
        .selectFrom('device_changes')
        .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
        .select('device_changes.id')
        .where('bulk_changes.carrier_account_id', '=', carrierAccountId)
        .where('device_changes.carrier_request_id', '=', requestId)
        .where('device_changes.iccid', '=', iccid)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Lines the carrier refused since `since` with a code ending in `carrierCodeSuffix` (a quota spent). */
    async refusedSince(options: {
      carrierAccountId: string;
      deviceIds: string[];
      carrierCodeSuffix: string;
      since: number;
    }): Promise<Set<string>> {
      const refused = new Set<string>();
      for (let start = 0; start < options.deviceIds.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('device_changes')
          .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
          .select('device_changes.device_id')
          .distinct()
          .where('bulk_changes.carrier_account_id', '=', options.carrierAccountId)
          .where('device_changes.device_id', 'in', options.deviceIds.slice(start, start + LOOKUP_SLICE))
          // Whatever became of the row since: a refused row waits for the quota, or was cancelled waiting.
          .where('device_changes.error_carrier_code', 'like', `%${options.carrierCodeSuffix}`)
          .where('device_changes.updated_at', '>=', options.since)
          .execute();
        for (const row of rows) if (row.device_id) refused.add(row.device_id);
      }
      return refused;
    },

    /** Lines of the account that another unfinished bulk change is working on. */
    async linesInRunningChanges(
      carrierAccountId: string,
      deviceIds: string[],
      /** The bulk change being written, whose own rows do not count. */
      except?: string,
    ): Promise<Map<string, string>> {
      const busy = new Map<string, string>();
      for (let start = 0; start < deviceIds.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('device_changes')
          .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
          .select(['device_changes.device_id', 'bulk_changes.id as bulk_change_id'])
          .where('bulk_changes.carrier_account_id', '=', carrierAccountId)
          .where('device_changes.device_id', 'in', deviceIds.slice(start, start + LOOKUP_SLICE))
          .where('device_changes.status', 'in', [...openRowStatuses])
          .execute();
        for (const row of rows) {
          if (row.device_id && row.bulk_change_id !== except) busy.set(row.device_id, row.bulk_change_id);
        }
      }
      return busy;
    },
  };
}
