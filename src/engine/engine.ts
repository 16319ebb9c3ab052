import type { Logger } from 'pino';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { systemActor } from '../audit/actor.ts';
import { AuditBuffer } from '../audit/audit-buffer.ts';
import { type AuditScope, auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { approvalPolicyRepository } from '../bulk-changes/approval-policy-repository.ts';
import { bulkChangesRepository } from '../bulk-changes/bulk-changes-repository.ts';
import { announceFinished, publishEvents, rowFailedEvents, startBulkChange } from '../bulk-changes/events.ts';
import { advanceBulkChange, carryOnAdvance, type Enqueue } from '../bulk-changes/jobs.ts';
import { logLifecycle } from '../bulk-changes/lifecycle-log.ts';
import { pauseBulkChange, resumeBulkChange } from '../bulk-changes/pause.ts';
import { openNextWave } from '../bulk-changes/waves.ts';
import { quotaRefusedBy } from '../carriers/line-quotas.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { AuditRecord } from '../core/audit-record.ts';
import type { BulkChange } from '../core/bulk-change.ts';
import type { CarrierName } from '../core/change-types.ts';
import { errorCodes } from '../core/errors.ts';
import type { CarrierAccount, Flow, RowError, RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { outcomeFromError } from '../core/outcomes.ts';
import {
  isHoldingBulkStatus,
  isTerminalBulkStatus,
  type PauseReason,
  selfEndingPauseReasons,
} from '../core/statuses.ts';
import { failureRate, type WaveProgress, type WaveResult } from '../core/waves.ts';
import { type Capabilities, type Db, inTransaction, type Tx } from '../db/database.ts';
import { withDefaultSite } from '../devices/default-site.ts';
import { deviceHistoryRepository } from '../devices/device-history-repository.ts';
import { devicesRepository, type LineChange } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { toIso } from '../shared/time.ts';
import { carrierResultsRepository } from './carrier-results-repository.ts';
import { finalStatus } from './final-status.ts';
import { createFollowUp } from './follow-up.ts';
import { rowsRepository } from './rows-repository.ts';
import {
  type ClaimedRow,
  heldByCircuit,
  type RowTransition,
  refusedByCircuit,
  transitionFor,
  waitForQuota,
} from './transitions.ts';

export interface EngineDeps {
  db: Db;
  capabilities: Capabilities;
  accounts: CarrierAccounts;
  registry: CarrierRegistry;
  enqueue: Enqueue;
  logger: Logger;
  /** How long claimed rows stay leased without a heartbeat before another worker reconciles them. */
  rowLeaseMs: number;
  /** Told of every carrier call (metrics). */
  onCarrierCall?: (record: AuditRecord) => void;
  /** How long one job works on a bulk change before it yields to others (fairness, DESIGN §2.9). */
  sliceMs: number;
  /** Jobs that may work on one bulk change at once, where the account allows calls in parallel. */
  parallelJobs: number;
  /** The blast-radius cap's window: a tenant's destructive line changes are counted over it (one hour). */
  blastRadiusWindowMs: number;
}

type AnyFlow = Flow<unknown, unknown, string>;

/** Rows left in progress read back per chunk, at most. */
const STALE_CHUNK = 200;
/** Chunks of one job out at once: the next is claimed while the current one's calls are in flight. */
const PIPELINE_DEPTH = 2;
/** Calls a second one job keeps up with; an account allowed more gets more jobs on one change. */
const ONE_JOB_CALLS_PER_SECOND = 200;
/** A change paused for the circuit tries again after this long at least (a circuit half-open at once says 0). */
const MIN_CIRCUIT_PAUSE_MS = 1_000;
/**
 * A row whose worker died more than this many times while holding it alone is set apart (failed), not
 * tried again. Deaths while it was held in a chunk with other rows do not count (ADR 0057).
 */
export const MAX_ROW_CRASHES = 3;
/** Audit entries of a chunk's calls are written in batches: at most this many, or this often. */
const AUDIT_BATCH = 100;
const AUDIT_FLUSH_MS = 200;
type AnyStep = Step<unknown, unknown, string>;
/** What one job works with. */
interface Job {
  bulk: BulkChange;
  account: CarrierAccount;
  flow: AnyFlow;
  client: unknown;
  signal: AbortSignal;
}

/** Rows claimed together under one attempt id, to be sent (`run`) or read back (`reconcile`). */
interface Chunk {
  rows: ClaimedRow[];
  attemptId: string;
  mode: 'run' | 'reconcile';
  /** The status a `run` chunk's rows were claimed from (`reconcile` takes rows left in progress). */
  claimedFrom: 'queued' | 'waiting' | null;
  /** A row taken alone to find the one that takes the worker down: nothing else runs beside it. */
  isolating: boolean;
  progress: ChunkProgress;
}

/** How far a chunk's calls are: settled once every row but the last `lanes` has had a call answered. */
class ChunkProgress {
  readonly lastCallsOut: Promise<void>;
  readonly #called = new Set<string>();
  readonly #threshold: number;
  #settle: () => void = () => {};

  constructor(rows: number, lanes: number) {
    this.#threshold = Math.max(0, rows - lanes);
    this.lastCallsOut = new Promise<void>((resolve) => {
      this.#settle = resolve;
    });
    if (this.#threshold === 0) this.#settle();
  }

  answered(rowId: string): void {
    this.#called.add(rowId);
    if (this.#called.size >= this.#threshold) this.#settle();
  }
}

/**
 * Advances one bulk change by one chunk and schedules what comes next (DESIGN §5). A job runs this;
 * it is idempotent, never sleeps, and yields after each chunk so other bulk changes get their turn.
 */
export class Engine {
  readonly #deps: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  #rows(db: Db | Tx = this.#deps.db) {
    return rowsRepository(db, this.#deps.capabilities);
  }

  #advanceLater(db: Db | Tx, bulkChangeId: string, options: { runAt?: number } = {}) {
    return this.#deps.enqueue(db, advanceBulkChange.job({ bulkChangeId }, options));
  }

  /**
   * Works on one bulk change for a slice of time (DESIGN §2.9), then yields: rows left in progress by
   * a dead worker are read back first, then due rows a chunk at a time, the next chunk claimed while
   * the current one's calls are still out (so the account's limiter never waits on the database).
   * Where the account allows calls in parallel, several jobs (slots) work on the same change at
   * once, on as many workers; the account's limiter keeps them, together, within its limits.
   */
  async advance(
    bulkChangeId: string,
    signal: AbortSignal,
    { slot = 0, jobId = null }: { slot?: number; jobId?: string | null } = {},
  ): Promise<void> {
    const { db } = this.#deps;
    const bulkChanges = bulkChangesRepository(db);
    const bulk = await bulkChanges.findById(bulkChangeId);
    if (!bulk || isTerminalBulkStatus(bulk.status)) return;
    const now = Date.now();
    if (bulk.cancelRequestedAt !== null) await bulkChanges.cancelQueuedRows(bulk.id, now);
    if (bulk.status === 'scheduled' && bulk.cancelRequestedAt === null && (bulk.scheduledFor ?? 0) > now) {
      await this.#advanceLater(db, bulk.id, { runAt: bulk.scheduledFor ?? undefined });
      return;
    }
    // Held for approval: nothing to do until it is decided (a cancel still ends it, below).
    if (bulk.status === 'awaiting_approval' && bulk.cancelRequestedAt === null) return;
    if (bulk.status === 'scheduled' || bulk.status === 'queued') {
      const started = await inTransaction(db, (tx) => startBulkChange(tx, this.#deps.enqueue, bulk.id, now));
      if (started) logLifecycle(this.#deps.logger, started, { step: 'started' });
    }
    // Paused for the circuit, whose open period is over (the first call is its probe), or for the
    // blast-radius cap, whose window allows more now: resume.
    const selfEnding = selfEndingPause(bulk);
    if (selfEnding && selfEnding.resumeAt <= now && bulk.cancelRequestedAt === null) {
      await inTransaction(db, (tx) =>
        resumeBulkChange(tx, this.#deps.enqueue, bulk, { actor: ENGINE, at: now, reason: selfEnding.reason }),
      );
      return; // the resume's own job carries on
    }

    const loaded = await this.#deps.accounts.load(bulk.carrierAccountId);
    const flow = loaded && this.#deps.registry.flowFor(loaded.account.carrier, bulk.changeType);
    if (!loaded || !flow) {
      await this.#failOpenRows(bulk, {
        code: errorCodes.UNSUPPORTED_CHANGE_TYPE,
        message: `${bulk.changeType} is not supported for this carrier account`,
      });
      return;
    }
    const { account, version } = loaded;
    const client = this.#deps.registry.clientFor(account, version);
    const writable = !flow.writesToCarrier || account.writeEnabled;
    if (!writable) {
      await this.#failOpenRows(bulk, {
        code: errorCodes.WRITE_DISABLED,
        message: `Writes are disabled on carrier account "${account.name}"; enable them to send changes`,
      });
    }
    // Rows already with the carrier are still confirmed (reads only) when writes are disabled.
    const statuses: Array<'waiting' | 'queued'> = writable ? ['waiting', 'queued'] : ['waiting'];
    const job = { bulk, account, flow, client, signal };

    const deadline = Date.now() + this.#deps.sliceMs;
    const inFlight = new Set<Promise<void>>();
    const failures: unknown[] = [];
    let chunks = 0;
    let isolating = false;
    let handedOn = false;
    for (;;) {
      const room: boolean =
        inFlight.size < PIPELINE_DEPTH && !isolating && !signal.aborted && failures.length === 0;
      // The slice is over: the next job is handed the change now, while this one's last calls are
      // still out, so the account's limiter goes on without a gap (once; it claims no more).
      if (room && !handedOn && chunks > 0 && Date.now() >= deadline) {
        handedOn = true;
        await this.#carryOn(bulk.id, account, slot, jobId);
      }
      // An account changed meanwhile (writes turned off, new limits or credentials) ends the slice:
      // the next job starts from the account as it now is.
      const chunk: Chunk | undefined =
        room && Date.now() < deadline && (await this.#accountUnchanged(account.id, version))
          ? await this.#claimChunk(job, statuses)
          : undefined;
      if (chunk) {
        chunks += 1;
        isolating = chunk.isolating;
        const done: Promise<void> = this.#process(job, chunk)
          .catch((error: unknown) => {
            failures.push(error);
          })
          .finally(() => inFlight.delete(done));
        inFlight.add(done);
        // The next chunk is claimed once this one's last calls are out: its calls then queue behind
        // these at the limiter, instead of sharing it with them, and no call waits on the database.
        await Promise.race([chunk.progress.lastCallsOut, done]);
        continue;
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    if (failures.length > 0) throw failures[0];
    if (chunks === 0) {
      await this.#settle(bulk, { flow, carrier: account.carrier });
      return;
    }
    // Asked again after the hand-on: the next job may have found nothing left and be waiting for
    // these rows' leases; this brings it forward now that they are done.
    await this.#carryOn(bulk.id, account, slot, jobId);
  }

  /**
   * The slot goes on in the next job (one line of jobs per slot: `carryOnAdvance`), and the first slot
   * brings in the others where the account allows calls in parallel.
   */
  async #carryOn(bulkChangeId: string, account: CarrierAccount, slot: number, jobId: string | null) {
    const { db, enqueue } = this.#deps;
    await carryOnAdvance(db, enqueue, { bulkChangeId, ...(slot > 0 ? { slot } : {}) }, jobId);
    if (slot !== 0) return;
    for (let other = 1; other < this.#slots(account); other += 1)
      await carryOnAdvance(db, enqueue, { bulkChangeId, slot: other }, null);
  }

  async #accountUnchanged(accountId: string, version: number): Promise<boolean> {
    return (await this.#deps.accounts.load(accountId))?.version === version;
  }

  #progress(rows: ClaimedRow[], account: CarrierAccount): ChunkProgress {
    return new ChunkProgress(rows.length, account.limits.maxConcurrent);
  }

  /**
   * How many jobs may work on one change of this account at once. One job, its chunks pipelined, keeps
   * an account busy up to a few hundred calls a second; only a faster account that also takes calls
   * in parallel gets more, each on whichever worker is free. More would only hold workers idle.
   */
  #slots(account: CarrierAccount): number {
    const { maxConcurrent, requestsPerSecond } = account.limits;
    const fast = requestsPerSecond === null || requestsPerSecond > ONE_JOB_CALLS_PER_SECOND;
    return fast ? Math.max(1, Math.min(this.#deps.parallelJobs, maxConcurrent)) : 1;
  }

  /**
   * The next chunk to work on: rows left in progress with their lease run out (to be read back,
   * never re-sent blindly), else the first due step's rows, waiting ones before queued ones.
   */
  async #claimChunk(job: Job, statuses: Array<'waiting' | 'queued'>): Promise<Chunk | undefined> {
    const { bulk, account, flow } = job;
    const rowsStore = this.#rows();
    const now = Date.now();
    const leaseUntil = now + this.#deps.rowLeaseMs;
    const attemptId = newId();
    const stale = await rowsStore.staleState(bulk.id, now);
    if (stale !== 'none') {
      // After a worker died twice on the same rows, one at a time: a row that takes the worker down
      // is then found alone, and set apart, instead of failing its whole chunk with it.
      const isolating = stale === 'crash_loop';
      const rows = await rowsStore.claimStale({
        bulkChangeId: bulk.id,
        now,
        limit: isolating ? 1 : STALE_CHUNK,
        attemptId,
        leaseUntil,
        isolating,
      });
      if (rows.length > 0) {
        this.#deps.logger.info(
          { bulkChangeId: bulk.id, rows: rows.length, crashLoop: isolating },
          'reconciling rows left in progress',
        );
        return {
          rows,
          attemptId,
          mode: 'reconcile',
          claimedFrom: null,
          isolating,
          progress: this.#progress(rows, account),
        };
      }
    }
    for (const status of statuses) {
      const name = await rowsStore.firstDueStep(bulk.id, status, now, Object.keys(flow.steps));
      if (!name) continue;
      const claim = {
        bulkChangeId: bulk.id,
        status,
        step: name,
        now,
        limit: flow.steps[name].chunkSize(account.limits),
        attemptId,
        leaseUntil,
      };
      const rows =
        status === 'queued' && bulk.destructiveAction !== null
          ? await this.#claimWithinCap(bulk, claim)
          : await rowsStore.claimDue(claim);
      if (rows.length > 0)
        return {
          rows,
          attemptId,
          mode: 'run',
          claimedFrom: status,
          isolating: false,
          progress: this.#progress(rows, account),
        };
    }
    return undefined;
  }

  /**
   * Claims rows of a destructive change within the tenant's blast-radius cap (docs/guardrails.md): the
   * tenant's destructive line changes of the last window are counted and the claim takes no more than
   * what is left, under the policy's row lock (PostgreSQL; SQLite has one writer), so workers on many
   * machines never spend the cap twice. None left: the change pauses (`blast_radius_cap`) until the
   * earliest counted send leaves the window, and resumes by itself then.
   */
  async #claimWithinCap(
    bulk: BulkChange,
    claim: Parameters<ReturnType<typeof rowsRepository>['claimDue']>[0],
  ): Promise<ClaimedRow[]> {
    const { capabilities, blastRadiusWindowMs } = this.#deps;
    return inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      const policy = await approvalPolicyRepository(tx).find(bulk.tenantId, { lock: capabilities.rowLocks });
      const cap = policy.destructiveLinesPerHour;
      if (cap === null) return rowsStore.claimDue({ ...claim, destructive: true });
      const spent = await rowsStore.destructiveSendsSince(bulk.tenantId, claim.now - blastRadiusWindowMs);
      const room = cap - spent.count;
      if (room > 0)
        return rowsStore.claimDue({ ...claim, limit: Math.min(claim.limit, room), destructive: true });
      const resumeAt = (spent.earliest ?? claim.now) + blastRadiusWindowMs;
      const current = await bulkChangesRepository(tx).findById(bulk.id);
      const paused =
        current &&
        (await pauseBulkChange(tx, this.#deps.enqueue, current, {
          reason: 'blast_radius_cap',
          actor: ENGINE,
          detail: {
            resumeAt: toIso(resumeAt),
            destructiveLinesPerHour: cap,
            sentInWindow: spent.count,
            windowMs: blastRadiusWindowMs,
          },
          at: claim.now,
        }));
      if (paused)
        this.#deps.logger.warn(
          { bulkChangeId: bulk.id, resumeAt, cap },
          'paused: the blast-radius cap is reached',
        );
      return [];
    });
  }

  /** A chunk's calls, step by step (a reconciled chunk may hold rows of several steps), then its commit. */
  async #process(job: Job, chunk: Chunk): Promise<void> {
    for (const [name, rows] of groupByStep(chunk.rows)) {
      const step = job.flow.steps[name];
      await this.#processStep(job, step, rows, chunk);
    }
  }

  async #processStep(
    { bulk, account, flow, client, signal }: Job,
    step: AnyStep,
    rows: ClaimedRow[],
    { attemptId, mode, progress, claimedFrom }: Chunk,
  ): Promise<void> {
    // Each call's entry is written within moments of the call (in batches), the rest in the commit.
    const audit = new AuditBuffer(this.#deps.db, {
      maxEntries: AUDIT_BATCH,
      maxDelayMs: AUDIT_FLUSH_MS,
      onError: (error, entries) =>
        this.#deps.logger.error({ err: error, entries }, 'could not write audit entries'),
    });
    // A call for one row is that row's; a batch call's entry is linked to every row it carried.
    const scope = (target: WorkRow<unknown> | readonly WorkRow<unknown>[] | null): AuditScope => {
      const rows = target === null ? [] : isRowList(target) ? target : [target];
      return {
        tenantId: bulk.tenantId,
        bulkChangeId: bulk.id,
        deviceChangeId: rows.length === 1 ? rows[0].id : null,
        carrierAccountId: account.id,
        actor: 'engine',
        ...(rows.length > 1 ? { rowIds: rows.map((row) => row.id) } : {}),
      };
    };
    const context: StepContext<unknown> = {
      client,
      account,
      signal,
      carrierResults: async (resultRows) => {
        const pairs = resultRows
          .filter((row) => row.carrierRequestId && row.iccid)
          .map((row) => ({ id: row.id, requestId: row.carrierRequestId!, iccid: row.iccid! }));
        const stored = await carrierResultsRepository(this.#deps.db).find(account.id, pairs);
        return new Map(
          pairs.flatMap((pair) => {
            const result = stored.get(`${pair.requestId}|${pair.iccid}`);
            if (!result) return [];
            // The callback that brought the result goes on the timeline of the row that takes it.
            if (result.auditEntryId !== null) audit.link(result.auditEntryId, pair.id);
            return [[pair.id, result.payload] as const];
          }),
        );
      },
      recordRequest: (requestRows, requestId) =>
        this.#rows().recordRequest(
          attemptId,
          requestRows.map((row) => row.id),
          requestId,
        ),
      auditFor: (target) => {
        const callScope = scope(target);
        return (record: AuditRecord) => {
          // Only a row's own call paces the pipeline (ChunkProgress); a batch call answers for its chunk.
          if (target !== null && !isRowList(target)) progress.answered(target.id);
          this.#deps.onCarrierCall?.(record);
          audit.add(auditEntryFromCall(callScope, record));
        };
      },
    };
    const heartbeat = setInterval(
      () =>
        void this.#rows()
          .extendLease(attemptId, Date.now() + this.#deps.rowLeaseMs)
          .catch((error) => this.#deps.logger.warn({ err: error }, 'row lease heartbeat failed')),
      Math.max(250, this.#deps.rowLeaseMs / 3),
    );
    let outcomes: RowOutcome[];
    try {
      outcomes = await this.#outcomes(step, rows, context, mode);
    } catch (error) {
      clearInterval(heartbeat);
      await audit.close();
      throw error;
    }
    clearInterval(heartbeat);
    await this.#commit(account, step, rows, outcomes, attemptId, audit, {
      bulk,
      flow,
      aborted: signal.aborted,
      reconciling: mode === 'reconcile',
      claimedFrom,
    });
  }

  async #outcomes(
    step: AnyStep,
    rows: ClaimedRow[],
    context: StepContext<unknown>,
    mode: 'run' | 'reconcile',
  ): Promise<RowOutcome[]> {
    // A row past its budget fails rather than goes out (or is read) again.
    const spent = rows.map((row) => spentBudget(row, context.account.limits.retryBudget, mode));
    const live = rows.filter((_, index) => !spent[index]);
    const outcomes = live.length ? await this.#liveOutcomes(step, live, context, mode) : [];
    return rows.map((_, index) => {
      const error = spent[index];
      return error ? { kind: 'failed', error } : outcomes.shift()!;
    });
  }

  async #liveOutcomes(
    step: AnyStep,
    rows: WorkRow[],
    context: StepContext<unknown>,
    mode: 'run' | 'reconcile',
  ): Promise<RowOutcome[]> {
    try {
      if (mode === 'run') return await step.run(rows, context);
      return step.reconcile ? await step.reconcile(rows, context) : rows.map(() => ({ kind: 'resend' }));
    } catch (error) {
      // A failure of the whole batch call: every row of the chunk shares its outcome.
      const outcome = outcomeFromError(error);
      return rows.map(() => outcome);
    }
  }

  /**
   * Outcomes, inventory updates, the calls' audit entries and the consequences for the rest of the
   * bulk change, in one transaction and a handful of statements whatever the chunk's size. After a
   * shutdown abort, rows whose call may or may not have reached the carrier stay leased, to be
   * reconciled rather than re-sent blindly.
   */
  async #commit(
    account: CarrierAccount,
    step: AnyStep,
    rows: ClaimedRow[],
    outcomes: RowOutcome[],
    attemptId: string,
    audit: AuditBuffer,
    mode: {
      bulk: BulkChange;
      flow: AnyFlow;
      aborted: boolean;
      reconciling: boolean;
      claimedFrom: 'queued' | 'waiting' | null;
    },
  ): Promise<void> {
    const now = Date.now();
    const context = {
      limits: account.limits,
      now,
      reconciling: mode.reconciling,
      canReconcile: !!step.reconcile,
    };
    const decided = rows.flatMap((row, index) => {
      const outcome = outcomes[index];
      return mode.aborted && outcome.kind === 'retry' ? [] : [{ row, outcome }];
    });
    // Calls the account's open circuit refused never left: the change pauses instead (docs/guardrails.md).
    const { claimedFrom } = mode;
    const refused = claimedFrom ? decided.filter(({ outcome }) => refusedByCircuit(outcome)) : [];
    const resumeAt =
      now + Math.max(MIN_CIRCUIT_PAUSE_MS, ...refused.map(({ outcome }) => retryAfter(outcome)));
    const quotaWaits = await this.#quotaWaits(account, mode, decided, now);
    const transitions = decided.map(
      ({ row, outcome }) =>
        quotaWaits.get(row.id) ??
        (claimedFrom && outcome.kind === 'retry' && refusedByCircuit(outcome)
          ? heldByCircuit(row, claimedFrom, outcome.error, resumeAt)
          : transitionFor(row, outcome, context)),
    );
    await audit.settle();
    await inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      await rowsStore.lock(mode.bulk.id);
      await audit.drainInto(tx);
      const applied = await rowsStore.applyTransitions(mode.bulk.id, attemptId, transitions, now);
      if (refused.some(({ row }) => applied.has(row.id)))
        await this.#pauseForCircuit(tx, mode.bulk.id, resumeAt, now);
      const kept = decided.filter(({ row }) => applied.has(row.id));
      const patched = await withDefaultSite(
        tx,
        mode.bulk.tenantId,
        kept.flatMap(({ row, outcome }) =>
          'device' in outcome && outcome.device && row.deviceId
            ? [{ deviceId: row.deviceId, rowId: row.id, patch: outcome.device }]
            : [],
        ),
      );
      const inventory = await devicesRepository(tx).applyPatches(this.#deps.capabilities, patched, now);
      await this.#auditInventory(tx, mode.bulk, account, patched, inventory, now);
      await this.#recordHistory(tx, mode.bulk, account, patched, inventory, now);
      const failed = kept.flatMap(({ row, outcome }) =>
        outcome.kind === 'failed' && !quotaWaits.has(row.id) ? [{ ...row, error: outcome.error }] : [],
      );
      await publishEvents(tx, this.#deps.enqueue, mode.bulk, rowFailedEvents(mode.bulk, failed), now);
      const authFailure = kept.find(
        ({ outcome }) => outcome.kind === 'failed' && outcome.error.code === errorCodes.AUTH_FAILED,
      );
      if (authFailure?.outcome.kind === 'failed')
        await this.#failRows(tx, mode.bulk, authFailure.outcome.error, now, 'auth');
      // A result that came by callback while its row was busy is waiting already: check it now.
      const waiting = kept.filter(({ outcome }) => outcome.kind === 'next').map(({ row }) => row.id);
      if (waiting.length > 0)
        await carrierResultsRepository(tx).wakeRowsWithResults(account.id, waiting, now);
    });
  }

  /**
   * Rows the carrier refused because their line's quota is spent (ThingSpace's daily provisioning,
   * monthly plan changes) wait for the quota's next period, from their first step again, instead of
   * failing (docs/guardrails.md). The line has not moved, so its first step is the one intake chose.
   */
  async #quotaWaits(
    account: CarrierAccount,
    mode: { bulk: BulkChange; flow: AnyFlow },
    decided: ReadonlyArray<{ row: ClaimedRow; outcome: RowOutcome }>,
    now: number,
  ): Promise<Map<string, RowTransition>> {
    const quotas = this.#deps.registry.adapter(account.carrier)?.lineQuotas;
    const refused = decided.flatMap(({ row, outcome }) => {
      if (outcome.kind !== 'failed' || !row.deviceId) return [];
      const quota = quotaRefusedBy(quotas, mode.bulk.changeType, outcome.error.carrierCode);
      return quota ? [{ row, deviceId: row.deviceId, error: outcome.error, quota }] : [];
    });
    if (refused.length === 0) return new Map();
    const devices = await devicesRepository(this.#deps.db).findByIds(refused.map(({ deviceId }) => deviceId));
    const { firstStep } = mode.flow;
    const calendar = this.#deps.registry.quotaCalendar;
    return new Map(
      refused.flatMap(({ row, deviceId, error, quota }) => {
        const device = devices.get(deviceId);
        if (!device) return [];
        const step = typeof firstStep === 'string' ? firstStep : firstStep(row.request, device);
        return [[row.id, waitForQuota(row, error, step, calendar.nextPeriodStart(quota.period, now))]];
      }),
    );
  }

  /** The account's circuit refused the change's calls: it pauses until `resumeAt` (unless paused already). */
  async #pauseForCircuit(tx: Tx, bulkChangeId: string, resumeAt: number, now: number): Promise<void> {
    const current = await bulkChangesRepository(tx).findById(bulkChangeId);
    if (!current) return;
    const paused = await pauseBulkChange(tx, this.#deps.enqueue, current, {
      reason: 'circuit_open',
      actor: ENGINE,
      detail: { resumeAt: toIso(resumeAt) },
      at: now,
    });
    if (paused) this.#deps.logger.warn({ bulkChangeId, resumeAt }, 'paused: the account circuit is open');
  }

  /**
   * What the chunk's outcomes did to the inventory, before → after, in one entry linked to the rows
   * that did it (each row's timeline shows its line's part).
   */
  async #auditInventory(
    tx: Tx,
    bulk: BulkChange,
    account: CarrierAccount,
    patched: ReadonlyArray<{ deviceId: string; rowId: string }>,
    changes: LineChange[],
    now: number,
  ): Promise<void> {
    if (changes.length === 0) return;
    const changedDevices = new Set(changes.map((change) => change.deviceId));
    const rowIds = patched.filter(({ deviceId }) => changedDevices.has(deviceId)).map(({ rowId }) => rowId);
    await auditRepository(tx).append([
      auditEntryForEvent(
        {
          ...this.#scope(bulk),
          carrierAccountId: account.id,
          deviceChangeId: rowIds.length === 1 ? rowIds[0] : null,
          ...(rowIds.length > 1 ? { rowIds } : {}),
        },
        { action: 'inventory.update', outcome: 'success', detail: { lines: changes } },
        now,
      ),
    ]);
  }

  /**
   * What the chunk's outcomes changed on each line, field by field, in the line's history (ADR 0046),
   * under whoever created the bulk change: in the outcomes' transaction, one statement for the chunk.
   */
  async #recordHistory(
    tx: Tx,
    bulk: BulkChange,
    account: CarrierAccount,
    patched: ReadonlyArray<{ deviceId: string; rowId: string }>,
    changes: LineChange[],
    now: number,
  ): Promise<void> {
    if (changes.length === 0) return;
    // One row per line in a bulk change (intake refuses a line twice), so a line names its row.
    const rowOf = new Map(patched.map(({ deviceId, rowId }) => [deviceId, rowId]));
    await deviceHistoryRepository(tx).record(
      this.#deps.capabilities,
      {
        tenantId: bulk.tenantId,
        bulkChangeId: bulk.id,
        carrierAccountId: account.id,
        actor: bulk.createdByActor ?? bulk.createdBy,
        actorName: bulk.createdBy,
      },
      changes.flatMap((change) => {
        const rowId = rowOf.get(change.deviceId);
        return rowId ? [{ ...change, rowId }] : [];
      }),
      now,
    );
  }

  /**
   * Fails the rows not yet sent, with an audit entry saying why: credentials refused (the rest would be
   * refused too), writes disabled, or a change type the carrier no longer supports.
   */
  async #failRows(tx: Tx, bulk: BulkChange, error: RowError, now: number, outcome: string): Promise<void> {
    const failed = await this.#rows(tx).failOpenRows(bulk.id, error, now);
    if (failed > 0) {
      await auditRepository(tx).append([
        auditEntryForEvent(
          this.#scope(bulk),
          { action: 'fail_rows', outcome, detail: { failed, error } },
          now,
        ),
      ]);
    }
  }

  /**
   * The bulk change's job failed for good (DESIGN §2, "nothing stuck silently"): every open row ends,
   * so its line is free again (rows that may be with the carrier as OUTCOME_UNKNOWN, to be checked),
   * and the bulk change is `failed` with the reason, for the API, the portal and the metrics.
   */
  async giveUp(bulkChangeId: string, reason: string): Promise<boolean> {
    const now = Date.now();
    const rowsEnded = await inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      await rowsStore.lock(bulkChangeId);
      const bulk = await bulkChangesRepository(tx).findById(bulkChangeId);
      if (!bulk || isTerminalBulkStatus(bulk.status)) return undefined;
      const ended = await rowsStore.failAllOpenRows(
        bulkChangeId,
        {
          notSent: {
            code: errorCodes.CHANGE_ABANDONED,
            message: `Not sent: the engine gave up on this bulk change (${reason})`,
          },
          maybeSent: {
            code: errorCodes.OUTCOME_UNKNOWN,
            message: `The engine gave up on this bulk change (${reason}) while the line's change may have been with the carrier; check the line`,
          },
        },
        now,
      );
      await rowsStore.finish(bulkChangeId, {
        status: 'failed',
        completedAt: now,
        startedAt: bulk.startedAt ?? now,
        failureReason: reason,
      });
      await announceFinished(tx, this.#deps.enqueue, bulkChangeId, now);
      await auditRepository(tx).append([
        auditEntryForEvent(
          this.#scope(bulk),
          { action: 'give_up', outcome: 'failed', detail: { reason, ended } },
          now,
        ),
      ]);
      return ended;
    });
    if (rowsEnded === undefined) return false;
    const failed = await bulkChangesRepository(this.#deps.db).findById(bulkChangeId);
    if (failed) logLifecycle(this.#deps.logger, failed, { step: 'given_up', reason, rowsEnded });
    return true;
  }

  async #failOpenRows(bulk: BulkChange, error: RowError): Promise<void> {
    await inTransaction(this.#deps.db, (tx) => this.#failRows(tx, bulk, error, Date.now(), 'rejected'));
    await this.#settle(bulk);
  }

  #scope(bulk: BulkChange): AuditScope {
    return {
      tenantId: bulk.tenantId,
      bulkChangeId: bulk.id,
      deviceChangeId: null,
      carrierAccountId: bulk.carrierAccountId,
      actor: 'engine',
    };
  }

  /**
   * A canary wave has ended (none of its rows, nor of the waves before it, is open): its figures are
   * kept and audited, the next wave opens, and the change either goes on or, above the plan's failure
   * rate, pauses (`canary_halt`) for a person to resume or cancel it (docs/guardrails.md).
   */
  async #endWave(tx: Tx, change: BulkChange, waves: WaveProgress): Promise<void> {
    const now = Date.now();
    const byStatus = await this.#rows(tx).waveFigures(change.id, waves.afterRow, waves.toRow ?? 0);
    const [succeeded, failed, cancelled] = [
      byStatus.succeeded ?? 0,
      byStatus.failed ?? 0,
      byStatus.cancelled ?? 0,
    ];
    const rate = failureRate({ succeeded, failed });
    const { haltOnFailureRate } = waves.plan;
    const result: WaveResult = {
      wave: waves.current + 1,
      rows: succeeded + failed + cancelled,
      succeeded,
      failed,
      cancelled,
      failureRate: Math.round(rate * 10_000) / 10_000,
      halted: rate > haltOnFailureRate,
    };
    await openNextWave(tx, change, { ...waves, results: [...waves.results, result] }, now);
    await auditRepository(tx).append([
      auditEntryForEvent(
        this.#scope(change),
        {
          action: 'wave.end',
          outcome: result.halted ? 'halted' : 'passed',
          detail: { ...result, haltOnFailureRate },
        },
        now,
      ),
    ]);
    if (!result.halted) {
      await this.#advanceLater(tx, change.id);
      return;
    }
    await pauseBulkChange(tx, this.#deps.enqueue, change, {
      reason: 'canary_halt',
      actor: ENGINE,
      detail: { ...result, haltOnFailureRate },
      at: now,
    });
  }

  /** Nothing due now: finish the bulk change if no row is open, else wake up when the next one is due. */
  async #settle(bulk: BulkChange, ran?: { flow: AnyFlow; carrier: CarrierName }): Promise<void> {
    const settled = await inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      await rowsStore.lock(bulk.id);
      const bulkChanges = bulkChangesRepository(tx);
      const current = await bulkChanges.findById(bulk.id);
      if (!current || isTerminalBulkStatus(current.status)) return undefined;
      // Paused: only the reads of rows already with the carrier wake it; its resume brings the rest. In
      // waves: the rows of its current wave.
      const paused = isHoldingBulkStatus(current.status);
      const { waves } = current;
      const wake = await rowsStore.nextWake(bulk.id, paused ? 0 : (waves?.toRow ?? null));
      if (wake.open) {
        const waveEnded =
          !paused &&
          waves !== null &&
          waves.toRow !== null &&
          current.cancelRequestedAt === null &&
          (await rowsStore.openUpTo(bulk.id, waves.toRow)) === 0;
        if (waveEnded) {
          await this.#endWave(tx, current, waves);
          return undefined;
        }
        // A change paused for the circuit also wakes when the circuit lets a call through again, one
        // paused for the blast-radius cap when its window allows more.
        const at = Math.min(
          wake.at ?? Number.POSITIVE_INFINITY,
          selfEndingPause(current)?.resumeAt ?? Number.POSITIVE_INFINITY,
        );
        if (at !== Number.POSITIVE_INFINITY)
          await this.#advanceLater(tx, bulk.id, { runAt: Math.max(at, Date.now()) });
        return undefined;
      }
      const followUp = ran?.flow.followUp;
      const followUpFlow = followUp && this.#deps.registry.flowFor(ran.carrier, followUp.changeType);
      const followUpId =
        followUp && followUpFlow && current.cancelRequestedAt === null
          ? await createFollowUp(tx, this.#deps.enqueue, current, followUp, followUpFlow)
          : undefined;
      const now = Date.now();
      const finished = await rowsStore.finish(bulk.id, {
        status: finalStatus(current.counts, current.cancelRequestedAt !== null),
        completedAt: now,
        startedAt: current.startedAt ?? now,
      });
      if (!finished) return undefined;
      await announceFinished(tx, this.#deps.enqueue, bulk.id, now);
      return { followUpId };
    });
    if (!settled) return;
    // Read back after the commit: the lines tell what is now in the database, follow-up first.
    const bulkChanges = bulkChangesRepository(this.#deps.db);
    const followUp = settled.followUpId && (await bulkChanges.findById(settled.followUpId));
    if (followUp) logLifecycle(this.#deps.logger, followUp, { step: 'created' });
    const finished = await bulkChanges.findById(bulk.id);
    if (finished) logLifecycle(this.#deps.logger, finished, { step: 'finished' });
  }
}

const ENGINE = systemActor('engine');

/**
 * A pause the engine ends by itself (the account's circuit, the blast-radius cap) and when it may go on;
 * undefined for any other change, which waits for a person.
 */
const selfEndingPause = (bulk: BulkChange): { reason: PauseReason; resumeAt: number } | undefined => {
  const pause = bulk.pause;
  if (!pause || typeof pause.detail.resumeAt !== 'string') return undefined;
  if (!(selfEndingPauseReasons as readonly PauseReason[]).includes(pause.reason)) return undefined;
  return { reason: pause.reason, resumeAt: Date.parse(pause.detail.resumeAt) };
};

const retryAfter = (outcome: RowOutcome): number =>
  outcome.kind === 'retry' ? (outcome.retryAfterMs ?? 0) : 0;

const isRowList = (
  target: WorkRow<unknown> | readonly WorkRow<unknown>[],
): target is readonly WorkRow<unknown>[] => Array.isArray(target);

function groupByStep(rows: ClaimedRow[]): Map<string, ClaimedRow[]> {
  return Map.groupBy(rows, (row) => row.step);
}

/**
 * Why a claimed row is not handed to its step again, if it is not: sending attempts spent, the
 * carrier read too often without an answer, or a row that keeps taking its worker down with it.
 */
function spentBudget(row: ClaimedRow, retryBudget: number, mode: 'run' | 'reconcile'): RowError | undefined {
  if (row.crashesAlone > MAX_ROW_CRASHES) {
    return {
      code: errorCodes.ROW_CRASHES_WORKER,
      message: `A worker stopped ${row.crashesAlone} times while handling this line alone, so it was set apart; check the line at the carrier before sending the change again`,
    };
  }
  if (mode === 'reconcile' && row.reconciliations > retryBudget) {
    return {
      code: errorCodes.OUTCOME_UNKNOWN,
      message: `Reading the line failed ${row.reconciliations - 1} times; check it before sending the change again`,
    };
  }
  if (mode === 'run' && row.attempts > retryBudget) {
    return { code: errorCodes.RETRIES_EXHAUSTED, message: `Gave up after ${row.attempts - 1} attempts` };
  }
  return undefined;
}
