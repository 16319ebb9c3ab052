import { type Insertable, type Selectable, sql } from 'kysely';
import {
  type Capabilities,
  type Db,
  type Executor,
  inTransaction,
  isUniqueViolation,
} from '../db/database.ts';
import type { JobTable } from '../db/schema.ts';
import { newId } from '../shared/ids.ts';
import {
  type ClaimOptions,
  DEFAULT_MAX_ATTEMPTS,
  type EnqueueInput,
  type Job,
  type JobCounts,
  type JobState,
  type RescheduleResult,
} from './types.ts';

/**
 * Every SQL statement of the queue. Times are
 * epoch ms from the caller's clock; rows are converted to `Job` here and nowhere else.
 */

type JobRow = Selectable<JobTable>;

/** Rows per INSERT in `enqueueMany`: 11 parameters each stays far below both dialects' limits. */
const INSERT_CHUNK = 500;

/**
 * Adds a job on `executor`, so it commits or rolls back with the caller's transaction. Returns the
 * id of the job that will do the work.
 *
 * With a `key`, there is at most one pending job per key: enqueueing again keeps the existing pending
 * job (its payload and max attempts) and moves its run_at to the earlier of the two, and returns the
 * existing id. A running or failed job with the same key does not block a new pending one.
 */
export async function enqueue(executor: Executor, input: EnqueueInput, now = Date.now()): Promise<string> {
  const [id] = await enqueueMany(executor, [input], now);
  return id;
}

/** `enqueue` for many jobs in few statements. Returns the ids in input order. */
export async function enqueueMany(
  executor: Executor,
  inputs: readonly EnqueueInput[],
  now = Date.now(),
): Promise<string[]> {
  const rows = inputs.map((input) => toInsertRow(input, now));
  // One statement must not upsert the same key twice (PostgreSQL refuses): keep the earliest per key.
  const byKey = new Map<string, Insertable<JobTable>>();
  const unique: Insertable<JobTable>[] = [];
  for (const row of rows) {
    if (row.key === null || row.key === undefined) {
      unique.push(row);
      continue;
    }
    const seen = byKey.get(row.key);
    if (!seen) {
      byKey.set(row.key, row);
      unique.push(row);
    } else if (row.run_at < seen.run_at) {
      seen.run_at = row.run_at;
    }
  }
  const idOfKey = new Map<string, string>();
  for (let start = 0; start < unique.length; start += INSERT_CHUNK) {
    const returned = await executor
      .insertInto('jobs')
      .values(unique.slice(start, start + INSERT_CHUNK))
      .onConflict((oc) =>
        oc
          .column('key')
          // A literal, not a parameter: both dialects match the partial unique index by its predicate.
          .where('state', '=', sql.lit('pending'))
          .doUpdateSet((eb) => ({
            run_at: eb
              .case()
              .when(eb.ref('excluded.run_at'), '<', eb.ref('jobs.run_at'))
              .then(eb.ref('excluded.run_at'))
              .else(eb.ref('jobs.run_at'))
              .end(),
            updated_at: eb.ref('excluded.updated_at'),
          })),
      )
      .returning(['id', 'key'])
      .execute();
    for (const row of returned) if (row.key !== null) idOfKey.set(row.key, row.id);
  }
  return rows.map((row) => (row.key === null || row.key === undefined ? row.id : idOfKey.get(row.key)!));
}

function toInsertRow(
  input: EnqueueInput,
  now: number,
): Insertable<JobTable> & { id: string; run_at: number } {
  if (typeof input.task !== 'string' || input.task.length === 0) {
    throw new TypeError('enqueue: task must be a non-empty string');
  }
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`enqueue: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  const runAt = input.runAt === undefined ? now : Number(input.runAt);
  if (!Number.isFinite(runAt)) throw new RangeError('enqueue: runAt must be a finite time');
  const payload = JSON.stringify(input.payload === undefined ? {} : input.payload);
  if (payload === undefined) throw new TypeError('enqueue: payload must be JSON-serialisable');
  return {
    id: newId(now),
    task: input.task,
    payload,
    key: input.key ?? null,
    state: 'pending',
    run_at: Math.round(runAt),
    attempts: 0,
    max_attempts: maxAttempts,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Claims up to `limit` due jobs for one worker, in claim order. Due: pending with `run_at <= now`, or running with an
 * expired lease (its worker died).
 *
 *   UPDATE jobs SET state = 'running', locked_by, locked_until, attempts = attempts + 1, updated_at
 *   WHERE id IN (SELECT id FROM jobs WHERE <due> ORDER BY run_at, id LIMIT n [FOR UPDATE SKIP LOCKED])
 *   RETURNING *
 *
 * On PostgreSQL `FOR UPDATE SKIP LOCKED` lets any number of workers claim at once: each candidate row
 * is locked by exactly one claimer, the others skip it. SQLite has no such clause (Kysely emits it
 * verbatim, a syntax error there) and needs none: it has a single writer, so the one statement is
 * atomic and two claimers can never both take a row.
 */
export async function claimJobs(db: Db, capabilities: Capabilities, options: ClaimOptions): Promise<Job[]> {
  if (options.limit < 1) return [];
  const { workerId, limit, leaseMs, now } = options;
  const rows = await db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      locked_by: workerId,
      locked_until: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', 'in', (eb) => {
      const candidates = eb
        .selectFrom('jobs')
        .select('id')
        .where((w) =>
          w.or([
            w.and([w('state', '=', 'pending'), w('run_at', '<=', now)]),
            w.and([w('state', '=', 'running'), w('locked_until', '<', now)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit);
      return capabilities.rowLocks ? candidates.forUpdate().skipLocked() : candidates;
    })
    .returningAll()
    .execute();
  // RETURNING order is not guaranteed; hand jobs out in claim order.
  rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map(toJob);
}

/** Extends the lease of a job this worker still holds. False: the lease is lost (re-claimed or gone). */
export async function extendLease(
  db: Db,
  id: string,
  workerId: string,
  lockedUntil: number,
  now = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ locked_until: lockedUntil, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Success: the row is deleted. False when this worker no longer holds the job. */
export async function completeJob(db: Db, id: string, workerId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('jobs')
    .where('id', '=', id)
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Terminal failure: state `failed`, the error kept for operators. False when the lease was lost. */
export async function failJob(
  db: Db,
  id: string,
  workerId: string,
  error: string,
  now = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ state: 'failed', locked_by: null, locked_until: null, last_error: error, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A failed attempt that may be retried: back to pending at `runAt`, the attempt counted, the error kept. */
export function retryJob(
  db: Db,
  options: { id: string; workerId: string; runAt: number; error: string; now?: number },
): Promise<RescheduleResult> {
  return moveToPending(db, { ...options, now: options.now ?? Date.now(), undoAttempt: false });
}

/**
 * Hands a running job back (graceful shutdown): pending, due now, unlocked, and the attempt it was
 * claimed with not counted.
 */
export function releaseJob(
  db: Db,
  options: { id: string; workerId: string; now?: number },
): Promise<RescheduleResult> {
  const now = options.now ?? Date.now();
  return moveToPending(db, { ...options, now, runAt: now, undoAttempt: true });
}

class PendingTwinMoved extends Error {}

/**
 * Moves a job this worker holds back to pending. If a pending job with the same key appeared
 * meanwhile (the partial unique index allows only one), the two name the same work: this row is
 * deleted and the other's run_at moved to the earlier of the two, as `enqueue` would.
 */
async function moveToPending(
  db: Db,
  options: {
    id: string;
    workerId: string;
    runAt: number;
    now: number;
    undoAttempt: boolean;
    error?: string;
  },
): Promise<RescheduleResult> {
  const { id, workerId, runAt, now, undoAttempt, error } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, async (tx) => {
        const own = await tx
          .selectFrom('jobs')
          .select(['key'])
          .where('id', '=', id)
          .where('state', '=', 'running')
          .where('locked_by', '=', workerId)
          .executeTakeFirst();
        if (!own) return 'lost';
        if (own.key !== null) {
          const twin = await tx
            .selectFrom('jobs')
            .select(['id'])
            .where('key', '=', own.key)
            .where('state', '=', 'pending')
            .executeTakeFirst();
          if (twin) {
            const deleted = await tx
              .deleteFrom('jobs')
              .where('id', '=', id)
              .where('state', '=', 'running')
              .where('locked_by', '=', workerId)
              .executeTakeFirst();
            if (deleted.numDeletedRows === 0n) return 'lost';
            const moved = await tx
              .updateTable('jobs')
              .set((eb) => ({
                run_at: eb.case().when('run_at', '>', runAt).then(runAt).else(eb.ref('run_at')).end(),
                updated_at: now,
              }))
              .where('id', '=', twin.id)
              .where('state', '=', 'pending')
              .executeTakeFirst();
            // Claimed between our two statements: roll back and look again.
            if (moved.numUpdatedRows === 0n) throw new PendingTwinMoved();
            return 'merged';
          }
        }
        const updated = await tx
          .updateTable('jobs')
          .set((eb) => ({
            state: 'pending',
            run_at: runAt,
            locked_by: null,
            locked_until: null,
            attempts: undoAttempt ? eb('attempts', '-', 1) : eb.ref('attempts'),
            ...(error === undefined ? {} : { last_error: error }),
            updated_at: now,
          }))
          .where('id', '=', id)
          .where('state', '=', 'running')
          .where('locked_by', '=', workerId)
          .executeTakeFirst();
        return updated.numUpdatedRows > 0n ? 'rescheduled' : 'lost';
      });
    } catch (caught) {
      // A concurrent enqueue committed a pending twin after we looked: the next pass merges into it.
      if (attempt < 5 && (caught instanceof PendingTwinMoved || isUniqueViolation(caught))) continue;
      throw caught;
    }
  }
}

/** How many jobs with this key are pending and running, leaving out `exceptId` (the asking job). */
export async function activeJobsWithKey(
  executor: Executor,
  key: string,
  exceptId: string | null = null,
): Promise<{ pending: number; running: number }> {
  const rows = await executor
    .selectFrom('jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('count')])
    .where('key', '=', key)
    .where('state', 'in', ['pending', 'running'])
    .$if(exceptId !== null, (query) => query.where('id', '<>', exceptId!))
    .groupBy('state')
    .execute();
  const count = (state: JobState) => Number(rows.find((row) => row.state === state)?.count ?? 0);
  return { pending: count('pending'), running: count('running') };
}

export async function getJob(db: Executor, id: string): Promise<Job | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toJob(row);
}

/** Terminal failures, most recent first, for operators (the dead-letter view). */
export async function listFailedJobs(
  db: Executor,
  options: { limit?: number; task?: string } = {},
): Promise<Job[]> {
  let query = db
    .selectFrom('jobs')
    .selectAll()
    .where('state', '=', 'failed')
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(Math.floor(options.limit ?? 100), 1), 1000));
  if (options.task !== undefined) query = query.where('task', '=', options.task);
  return (await query.execute()).map(toJob);
}

/**
 * Redrive: a failed job runs again now with a fresh set of attempts (its last error kept until it
 * succeeds or fails anew). If a pending job with the same key exists, that one does the work: it is
 * moved to now and the failed row is deleted. Returns the id of the pending job, or null when `id` is
 * not a failed job.
 */
export async function retryFailedJob(db: Db, id: string, now = Date.now()): Promise<string | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, async (tx) => {
        const failed = await tx
          .selectFrom('jobs')
          .select(['key'])
          .where('id', '=', id)
          .where('state', '=', 'failed')
          .executeTakeFirst();
        if (!failed) return null;
        if (failed.key !== null) {
          const twin = await tx
            .selectFrom('jobs')
            .select(['id'])
            .where('key', '=', failed.key)
            .where('state', '=', 'pending')
            .executeTakeFirst();
          if (twin) {
            const moved = await tx
              .updateTable('jobs')
              .set((eb) => ({
                run_at: eb.case().when('run_at', '>', now).then(now).else(eb.ref('run_at')).end(),
                updated_at: now,
              }))
              .where('id', '=', twin.id)
              .where('state', '=', 'pending')
              .executeTakeFirst();
            if (moved.numUpdatedRows === 0n) throw new PendingTwinMoved();
            await tx.deleteFrom('jobs').where('id', '=', id).where('state', '=', 'failed').execute();
            return twin.id;
          }
        }
        const updated = await tx
          .updateTable('jobs')
          .set({
            state: 'pending',
            run_at: now,
            attempts: 0,
            locked_by: null,
            locked_until: null,
            updated_at: now,
          })
          .where('id', '=', id)
          .where('state', '=', 'failed')
          .executeTakeFirst();
        return updated.numUpdatedRows > 0n ? id : null;
      });
    } catch (caught) {
      if (attempt < 5 && (caught instanceof PendingTwinMoved || isUniqueViolation(caught))) continue;
      throw caught;
    }
  }
}

/** Jobs by state, plus the due backlog and its age: for /metrics and operators. */
export async function countJobs(db: Executor, now = Date.now()): Promise<JobCounts> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => [
      'state',
      eb.fn.countAll<number | string>().as('count'),
      // Only read for the pending group: due = pending with run_at <= now.
      eb.fn.sum<number | string | null>(eb.case().when('run_at', '<=', now).then(1).else(0).end()).as('due'),
      eb.fn
        .min<number | string | null>(eb.case().when('run_at', '<=', now).then(eb.ref('run_at')).end())
        .as('oldest_due'),
    ])
    .groupBy('state')
    .execute();
  const counts: JobCounts = { pending: 0, running: 0, failed: 0, due: 0, oldestDueRunAt: null };
  for (const row of rows) {
    const state = row.state as JobState;
    if (state === 'pending' || state === 'running' || state === 'failed') counts[state] = Number(row.count);
    if (state === 'pending') {
      counts.due = Number(row.due ?? 0);
      counts.oldestDueRunAt = row.oldest_due === null ? null : Number(row.oldest_due);
    }
  }
  return counts;
}

function toJob(row: JobRow): Job {
  let payload: unknown;
  let payloadError: string | null = null;
  try {
    payload = JSON.parse(row.payload);
  } catch (error) {
    payloadError = `payload is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    id: row.id,
    task: row.task,
    payload,
    payloadError,
    key: row.key,
    state: row.state as JobState,
    runAt: Number(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
