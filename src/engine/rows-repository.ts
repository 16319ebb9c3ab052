import { sql } from 'kysely';
import type { RowError, WorkRow } from '../core/flow.ts';
import {
  openRowStatuses,
  type RowStatus,
  type TerminalBulkStatus,
  terminalBulkStatuses,
} from '../core/statuses.ts';
import type { Capabilities, Executor } from '../db/database.ts';
import type { DeviceChangeRow } from '../db/schema.ts';

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

/** A row as a step takes it. */
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

const SLICE = 500;

/**
 * The engine's hold on rows (DESIGN §2.3, §2.5): claiming due rows under an attempt id before any
 * carrier call, leases and their heartbeat, and the row state machine's fenced transitions.
 */
export function rowsRepository(db: Executor, capabilities: Capabilities) {
  const due = (bulkChangeId: string, status: 'queued' | 'waiting', now: number) =>
    db
      .selectFrom('device_changes')
      .where('bulk_change_id', '=', bulkChangeId)
      .where('status', '=', status)
      .where((eb) => eb.or([eb('next_check_at', 'is', null), eb('next_check_at', '<=', now)]));

  return {
    /**
     * The first of the flow's steps, in its order, that has rows due: a chunk holds one step only, and
     * earlier steps go first so that later ones gather every row (add all, then activate all at once).
     */
    async firstDueStep(
      bulkChangeId: string,
      status: 'queued' | 'waiting',
      now: number,
      steps: readonly string[],
    ): Promise<string | undefined> {
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
    }): Promise<WorkRow[]> {
      let candidates = due(options.bulkChangeId, options.status, options.now)
        .select('id')
        .where('step', '=', options.step)
        .orderBy('row_number')
        .limit(options.limit);
      if (capabilities.rowLocks) candidates = candidates.forUpdate().skipLocked();
      const rows = await db
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
      return rows.map(toWorkRow);
    },

    /** Rows left `in_progress` by a worker that died (their lease ran out), re-leased for reconciliation. */
    async claimStale(options: {
      bulkChangeId: string;
      now: number;
      limit: number;
      attemptId: string;
      leaseUntil: number;
    }): Promise<WorkRow[]> {
      let candidates = db
        .selectFrom('device_changes')
        .select('id')
        .where('bulk_change_id', '=', options.bulkChangeId)
        .where('status', '=', 'in_progress')
        .where('lease_until', '<', options.now)
        .orderBy('row_number')
        .limit(options.limit);
      if (capabilities.rowLocks) candidates = candidates.forUpdate().skipLocked();
      const rows = await db
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
      return rows.map(toWorkRow);
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
      for (let start = 0; start < rowIds.length; start += SLICE) {
        await db
          .updateTable('device_changes')
          .set({ carrier_request_id: requestId })
          .where('attempt_id', '=', attemptId)
          .where('id', 'in', rowIds.slice(start, start + SLICE))
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
        .where('status', 'in', [...openRowStatuses])
        .executeTakeFirstOrThrow();
      return { open: Number(row.open) > 0, at: row.at === null ? null : Number(row.at) };
    },

    /** Serialises the transactions that settle a bulk change (with row locks; SQLite has one writer). */
    async lock(bulkChangeId: string): Promise<void> {
      if (capabilities.rowLocks) {
        await db.selectFrom('bulk_changes').select('id').where('id', '=', bulkChangeId).forUpdate().execute();
      }
    },

    /** Ends a bulk change, unless it already has ended. */
    async finish(
      id: string,
      patch: { status: TerminalBulkStatus; completedAt: number; startedAt: number },
    ): Promise<void> {
      await db
        .updateTable('bulk_changes')
        .set({
          status: patch.status,
          completed_at: patch.completedAt,
          started_at: patch.startedAt,
          updated_at: patch.completedAt,
        })
        .where('id', '=', id)
        .where('status', 'not in', [...terminalBulkStatuses])
        .execute();
    },
  };
}
