import { sql } from 'kysely';
import {
  bulkChangesRepository,
  type CountsDelta,
  moved,
  sumDeltas,
} from '../bulk-changes/bulk-changes-repository.ts';
import type { RowError } from '../core/flow.ts';
import {
  holdingBulkStatuses,
  type OpenRowStatus,
  openRowStatuses,
  type RowStatus,
  type TerminalBulkStatus,
  terminalBulkStatuses,
} from '../core/statuses.ts';
import type { Capabilities, Executor } from '../db/database.ts';
import type { DeviceChangeRow } from '../db/schema.ts';
import type { ClaimedRow, RowTransition } from './transitions.ts';

/** A row as a step takes it. */
export const toWorkRow = (row: DeviceChangeRow): ClaimedRow => ({
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
  reconciliations: row.reconciliations,
  crashes: row.crashes,
  crashesAlone: row.crashes_alone,
});

/**
 * A transition as one record of the JSON table `applyTransitions` reads. An optional field is written
 * only when its `set_…` flag is 1, so "leave it" and "make it null" stay apart.
 */
const transitionRecord = (change: RowTransition) => ({
  id: change.id,
  status: change.status,
  set_step: change.step !== undefined ? 1 : 0,
  step: change.step ?? null,
  set_next_check_at: change.nextCheckAt !== undefined ? 1 : 0,
  next_check_at: change.nextCheckAt ?? null,
  set_waiting_since: change.waitingSince !== undefined ? 1 : 0,
  waiting_since: change.waitingSince ?? null,
  set_carrier_request_id: change.carrierRequestId !== undefined ? 1 : 0,
  carrier_request_id: change.carrierRequestId ?? null,
  set_error: change.error !== undefined ? 1 : 0,
  error_code: change.error?.code ?? null,
  error_message: change.error?.message ?? null,
  error_carrier_code: change.error?.carrierCode ?? null,
  set_result: change.result !== undefined ? 1 : 0,
  result: change.result ? JSON.stringify(change.result) : null,
  lease_until: change.leaseUntil ?? null,
  refund_attempt: change.refundAttempt ? 1 : 0,
});

const transitionColumns = {
  id: 'text',
  status: 'text',
  set_step: 'integer',
  step: 'text',
  set_next_check_at: 'integer',
  next_check_at: 'bigint',
  set_waiting_since: 'integer',
  waiting_since: 'bigint',
  set_carrier_request_id: 'integer',
  carrier_request_id: 'text',
  set_error: 'integer',
  error_code: 'text',
  error_message: 'text',
  error_carrier_code: 'text',
  set_result: 'integer',
  result: 'text',
  lease_until: 'bigint',
  refund_attempt: 'integer',
} as const;

/** `column = v.column` where the record says so, else the column as it is. */
const maybe = (flag: string, column: string, from = column) =>
  sql`case when v.${sql.id(flag)} = 1 then v.${sql.id(from)} else device_changes.${sql.id(column)} end`;

const SLICE = 500;

/** RETURNING gives no order: rows go to the carrier in the order of the file they came from. */
const inRowOrder = (rows: DeviceChangeRow[]) => rows.sort((a, b) => a.row_number - b.row_number);

/**
 * The engine's hold on rows (DESIGN §2.3, §2.5): claiming due rows under an attempt id before any
 * carrier call, leases and their heartbeat, the row state machine's fenced transitions, and the
 * bulk change's counts moved with them in the same statements' transaction.
 */
export function rowsRepository(db: Executor, capabilities: Capabilities) {
  const counts = bulkChangesRepository(db);
  /**
   * Rows due now. A queued row is sent only while its bulk change may send: not while it is paused or
   * awaiting approval, nor past its current canary wave (docs/guardrails.md). Asked in the claim's own statement, so a pause that commits stops the next
   * claim of every worker; waiting rows (reads of changes already with the carrier) go on.
   */
  const due = (bulkChangeId: string, status: 'queued' | 'waiting', now: number) => {
    const query = db
      .selectFrom('device_changes')
      .where('bulk_change_id', '=', bulkChangeId)
      .where('status', '=', status)
      .where((eb) => eb.or([eb('next_check_at', 'is', null), eb('next_check_at', '<=', now)]));
    if (status === 'waiting') return query;
    // Nor past the row where its current canary wave ends.
    return query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('bulk_changes')
          .select('bulk_changes.id')
          .where('bulk_changes.id', '=', bulkChangeId)
          .where('bulk_changes.status', 'not in', [...holdingBulkStatuses])
          .where((eb) =>
            eb.or([
              eb('bulk_changes.wave_to_row', 'is', null),
              eb('bulk_changes.wave_to_row', '>=', eb.ref('device_changes.row_number')),
            ]),
          ),
      ),
    );
  };
  const stale = (bulkChangeId: string, now: number) =>
    db
      .selectFrom('device_changes')
      .where('bulk_change_id', '=', bulkChangeId)
      .where('status', '=', 'in_progress')
      .where('lease_until', '<', now);
  /** Fails the rows of `statuses`, each with its status's error, and frees their lines; how many of each. */
  const failRows = async (
    bulkChangeId: string,
    statuses: readonly OpenRowStatus[],
    errorFor: (status: OpenRowStatus) => RowError,
    at: number,
  ): Promise<Partial<Record<RowStatus, number>>> => {
    const ended: Partial<Record<RowStatus, number>> = {};
    for (const status of statuses) {
      const error = errorFor(status);
      const result = await db
        .updateTable('device_changes')
        .set({
          status: 'failed',
          error_code: error.code,
          error_message: error.message,
          error_carrier_code: error.carrierCode ?? null,
          next_check_at: null,
          attempt_id: null,
          lease_until: null,
          updated_at: at,
        })
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', '=', status)
        .executeTakeFirst();
      ended[status] = Number(result.numUpdatedRows);
    }
    await counts.moveCounts(
      bulkChangeId,
      sumDeltas(statuses.map((status) => moved(status, 'failed', ended[status] ?? 0))),
    );
    return ended;
  };

  return {
    /**
     * The first of the flow's steps, in its order, that has rows due: a chunk holds one step only, and
     * earlier steps go first so that later ones gather every row (add all, then activate all at once).
     * So a step whose rows are out with the carrier (in progress, another chunk's) holds back the steps
     * after it, for new sends: its rows will join them. Re-checks of waiting rows are never held back.
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
        if (status === 'waiting') continue;
        const busy = await db
          .selectFrom('device_changes')
          .select('id')
          .where('bulk_change_id', '=', bulkChangeId)
          .where('status', '=', 'in_progress')
          .where('step', '=', step)
          .limit(1)
          .executeTakeFirst();
        if (busy) return undefined;
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
      /** Rows of a destructive change: their first send is noted, for the blast-radius cap. */
      destructive?: boolean;
    }): Promise<ClaimedRow[]> {
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
          held_alone: 0,
          ...(options.destructive
            ? { destructive_sent_at: eb.fn.coalesce('destructive_sent_at', eb.val(options.now)) }
            : {}),
          updated_at: options.now,
        }))
        .where('id', 'in', candidates)
        .returningAll()
        .execute();
      await counts.moveCounts(options.bulkChangeId, moved(options.status, 'in_progress', rows.length));
      return inRowOrder(rows).map(toWorkRow);
    },

    /**
     * The tenant's destructive line changes sent since a time (each row counted once, at its first
     * send), and the earliest of them: what the blast-radius cap counts (docs/guardrails.md).
     */
    async destructiveSendsSince(
      tenantId: string,
      since: number,
    ): Promise<{ count: number; earliest: number | null }> {
      const row = await db
        .selectFrom('device_changes')
        .select((eb) => [
          eb.fn.countAll<number>().as('count'),
          eb.fn.min<number | null>('destructive_sent_at').as('earliest'),
        ])
        .where('tenant_id', '=', tenantId)
        .where('destructive_sent_at', '>=', since)
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), earliest: row.earliest === null ? null : Number(row.earliest) };
    },

    /**
     * How the rows left `in_progress` with a lease run out stand: none, rows kept on purpose to be read
     * (an unclear answer), or rows whose worker died holding them. After a second death in a row the
     * engine takes such rows one at a time, so that a row that takes the worker down is found alone.
     */
    async staleState(bulkChangeId: string, now: number): Promise<'none' | 'stale' | 'crash_loop'> {
      const first = await stale(bulkChangeId, now)
        .select(['crashes', 'attempt_id'])
        .orderBy('crashes', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!first) return 'none';
      return first.attempt_id !== null && first.crashes >= 1 ? 'crash_loop' : 'stale';
    },

    /**
     * Rows left `in_progress` with their lease run out, re-leased to be reconciled (the carrier read,
     * never blindly re-sent). A read counts against the row's reconciliation budget, not its sending
     * attempts; a row still claimed by an attempt (its worker died) also counts a crash, and a crash
     * alone when that claim held it alone (ADR 0057): only those say the row itself is to blame.
     */
    async claimStale(options: {
      bulkChangeId: string;
      now: number;
      limit: number;
      attemptId: string;
      leaseUntil: number;
      /** The engine's isolating claim (one row, nothing else run beside it), noted on the row. */
      isolating: boolean;
    }): Promise<ClaimedRow[]> {
      let candidates = stale(options.bulkChangeId, options.now)
        .select('id')
        .orderBy('crashes', 'desc')
        .orderBy('row_number')
        .limit(options.limit);
      if (capabilities.rowLocks) candidates = candidates.forUpdate().skipLocked();
      const rows = await db
        .updateTable('device_changes')
        .set((eb) => ({
          crashes: eb('crashes', '+', eb.case().when('attempt_id', 'is not', null).then(1).else(0).end()),
          // Every value on the right is the row's before this claim: the dead holder's, not ours.
          crashes_alone: eb(
            'crashes_alone',
            '+',
            eb
              .case()
              .when(eb.and([eb('attempt_id', 'is not', null), eb('held_alone', '=', 1)]))
              .then(1)
              .else(0)
              .end(),
          ),
          held_alone: options.isolating ? 1 : 0,
          attempt_id: options.attemptId,
          lease_until: options.leaseUntil,
          reconciliations: eb('reconciliations', '+', 1),
          updated_at: options.now,
        }))
        .where('id', 'in', candidates)
        .returningAll()
        .execute();
      return inRowOrder(rows).map(toWorkRow);
    },

    async extendLease(attemptId: string, leaseUntil: number): Promise<void> {
      await db
        .updateTable('device_changes')
        .set({ lease_until: leaseUntil })
        .where('attempt_id', '=', attemptId)
        .where('status', '=', 'in_progress')
        .execute();
    },

    /**
     * Applies a chunk's outcomes in one statement, each only if its row still belongs to this claim
     * (fenced), and moves the bulk change's counts with them. Returns the ids applied.
     */
    async applyTransitions(
      bulkChangeId: string,
      attemptId: string,
      changes: RowTransition[],
      at: number,
    ): Promise<Set<string>> {
      const applied = new Set<string>();
      const deltas: CountsDelta[] = [];
      for (let start = 0; start < changes.length; start += SLICE) {
        const slice = changes.slice(start, start + SLICE);
        const records = capabilities.jsonRecords(
          JSON.stringify(slice.map(transitionRecord)),
          'v',
          transitionColumns,
        );
        const result = await sql<{ id: string; status: RowStatus }>`
          update device_changes set
            status = v.status,
            step = ${maybe('set_step', 'step')},
            next_check_at = ${maybe('set_next_check_at', 'next_check_at')},
            waiting_since = ${maybe('set_waiting_since', 'waiting_since')},
            carrier_request_id = ${maybe('set_carrier_request_id', 'carrier_request_id')},
            error_code = ${maybe('set_error', 'error_code')},
            error_message = ${maybe('set_error', 'error_message')},
            error_carrier_code = ${maybe('set_error', 'error_carrier_code')},
            result = ${maybe('set_result', 'result')},
            attempts = device_changes.attempts - v.refund_attempt,
            attempt_id = null,
            lease_until = v.lease_until,
            updated_at = ${at}
          from ${records}
          where device_changes.id = v.id
            and device_changes.attempt_id = ${attemptId}
            and device_changes.status = 'in_progress'
          returning device_changes.id as id, device_changes.status as status`.execute(db);
        for (const row of result.rows) {
          applied.add(row.id);
          deltas.push(moved('in_progress', row.status, 1));
        }
      }
      await counts.moveCounts(bulkChangeId, sumDeltas(deltas));
      return applied;
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
      const ended = await failRows(bulkChangeId, ['queued'], () => error, at);
      return ended.queued ?? 0;
    },

    /**
     * Ends every open row: rows never sent with `notSent`, rows that may be with the carrier (in
     * progress or waiting) with `maybeSent`. Their lines are free again. Returns how many of each.
     */
    failAllOpenRows(
      bulkChangeId: string,
      errors: { notSent: RowError; maybeSent: RowError },
      at: number,
    ): Promise<Partial<Record<RowStatus, number>>> {
      return failRows(
        bulkChangeId,
        openRowStatuses,
        (status) => (status === 'queued' ? errors.notSent : errors.maybeSent),
        at,
      );
    },

    /**
     * When the bulk change next has work: the earliest due row, or the earliest lease to expire. One
     * statement, so a row moving between states in another transaction cannot slip between two reads.
     * Queued rows count only up to row number `sendsUpTo` (null: all; 0 while paused, none): a paused
     * change wakes for its reads alone and waits for its resume (`at` null) once none is left; a change
     * in waves, for the rows of its current wave.
     */
    async nextWake(
      bulkChangeId: string,
      sendsUpTo: number | null,
    ): Promise<{ open: boolean; at: number | null }> {
      const row = await db
        .selectFrom('device_changes')
        .select([
          sql<number>`count(*)`.as('open'),
          sql<number | null>`min(case
            when status = 'in_progress' then lease_until
            when status = 'waiting' or row_number <= ${sql.lit(sendsUpTo ?? Number.MAX_SAFE_INTEGER)}
              then coalesce(next_check_at, 0)
          end)`.as('at'),
        ])
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', 'in', [...openRowStatuses])
        .executeTakeFirstOrThrow();
      return { open: Number(row.open) > 0, at: row.at === null ? null : Number(row.at) };
    },

    /** Open rows up to a row number: none, and a canary wave (with the waves before it) has ended. */
    async openUpTo(bulkChangeId: string, toRow: number): Promise<number> {
      const row = await db
        .selectFrom('device_changes')
        .select((eb) => eb.fn.countAll<number>().as('open'))
        .where('bulk_change_id', '=', bulkChangeId)
        .where('status', 'in', [...openRowStatuses])
        .where('row_number', '<=', toRow)
        .executeTakeFirstOrThrow();
      return Number(row.open);
    },

    /** How the rows of a canary wave (row numbers above `afterRow`, up to `toRow`) ended, by status. */
    async waveFigures(
      bulkChangeId: string,
      afterRow: number,
      toRow: number,
    ): Promise<Partial<Record<RowStatus, number>>> {
      const rows = await db
        .selectFrom('device_changes')
        .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
        .where('bulk_change_id', '=', bulkChangeId)
        .where('row_number', '>', afterRow)
        .where('row_number', '<=', toRow)
        .groupBy('status')
        .execute();
      return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
    },

    /** Serialises the transactions that settle a bulk change (with row locks; SQLite has one writer). */
    async lock(bulkChangeId: string): Promise<void> {
      if (capabilities.rowLocks) {
        await db.selectFrom('bulk_changes').select('id').where('id', '=', bulkChangeId).forUpdate().execute();
      }
    },

    /** Ends a bulk change, unless it already has ended; `failureReason` says why the engine gave up. */
    async finish(
      id: string,
      patch: { status: TerminalBulkStatus; completedAt: number; startedAt: number; failureReason?: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable('bulk_changes')
        .set({
          status: patch.status,
          completed_at: patch.completedAt,
          started_at: patch.startedAt,
          updated_at: patch.completedAt,
          ...(patch.failureReason !== undefined ? { failure_reason: patch.failureReason } : {}),
        })
        .where('id', '=', id)
        .where('status', 'not in', [...terminalBulkStatuses])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
