import type { Logger } from 'pino';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { type AuditScope, auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository, type NewAuditEntry } from '../audit/audit-repository.ts';
import { bulkChangesRepository } from '../bulk-changes/bulk-changes-repository.ts';
import { advanceBulkChange, type Enqueue } from '../bulk-changes/jobs.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { AuditRecord } from '../core/audit-record.ts';
import type { BulkChange } from '../core/bulk-change.ts';
import type { CarrierName } from '../core/change-types.ts';
import { errorCodes } from '../core/errors.ts';
import type { CarrierAccount, Flow, RowError, RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { outcomeFromError } from '../core/outcomes.ts';
import { isTerminalBulkStatus } from '../core/statuses.ts';
import { type Capabilities, type Db, inTransaction, type Tx } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { carrierResultsRepository } from './carrier-results-repository.ts';
import { finalStatus } from './final-status.ts';
import { createFollowUp } from './follow-up.ts';
import { rowsRepository } from './rows-repository.ts';
import { transitionFor } from './transitions.ts';

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
}

type AnyFlow = Flow<unknown, unknown, string>;
type AnyStep = Step<unknown, unknown, string>;
type ClaimedStep = { name: string; step: AnyStep };

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

  #advanceLater(db: Db | Tx, bulkChangeId: string, runAt?: number) {
    return this.#deps.enqueue(db, advanceBulkChange.job({ bulkChangeId }, { runAt }));
  }

  async advance(bulkChangeId: string, signal: AbortSignal): Promise<void> {
    const { db } = this.#deps;
    const bulkChanges = bulkChangesRepository(db);
    const bulk = await bulkChanges.findById(bulkChangeId);
    if (!bulk || isTerminalBulkStatus(bulk.status)) return;
    const now = Date.now();
    if (bulk.cancelRequestedAt !== null) await bulkChanges.cancelQueuedRows(bulk.id, now);
    if (bulk.status === 'scheduled' && bulk.cancelRequestedAt === null && (bulk.scheduledFor ?? 0) > now) {
      await this.#advanceLater(db, bulk.id, bulk.scheduledFor ?? undefined);
      return;
    }
    if (bulk.status === 'scheduled' || bulk.status === 'queued') {
      await bulkChanges.update(bulk.id, { status: 'processing', startedAt: now });
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

    if (await this.#reconcileStale(bulk, account, flow, client, signal)) return;
    const writable = !flow.writesToCarrier || account.writeEnabled;
    if (!writable) {
      await this.#failOpenRows(bulk, {
        code: errorCodes.WRITE_DISABLED,
        message: `Writes are disabled on carrier account "${account.name}"; enable them to send changes`,
      });
    }
    // Rows already with the carrier are still confirmed (reads only) when writes are disabled.
    const statuses: Array<'waiting' | 'queued'> = writable ? ['waiting', 'queued'] : ['waiting'];
    if (await this.#runDueChunk(bulk, account, flow, client, signal, statuses)) return;
    await this.#settle(bulk, { flow, carrier: account.carrier });
  }

  async #reconcileStale(
    bulk: BulkChange,
    account: CarrierAccount,
    flow: AnyFlow,
    client: unknown,
    signal: AbortSignal,
  ): Promise<boolean> {
    const attemptId = newId();
    const now = Date.now();
    const stale = await this.#rows().claimStale({
      bulkChangeId: bulk.id,
      now,
      limit: 200,
      attemptId,
      leaseUntil: now + this.#deps.rowLeaseMs,
    });
    if (stale.length === 0) return false;
    this.#deps.logger.info(
      { bulkChangeId: bulk.id, rows: stale.length },
      'reconciling rows left in progress',
    );
    for (const [name, rows] of groupByStep(stale)) {
      const step = flow.steps[name];
      await this.#process(bulk, account, client, { name, step }, rows, attemptId, signal, 'reconcile');
    }
    await this.#advanceLater(this.#deps.db, bulk.id);
    return true;
  }

  async #runDueChunk(
    bulk: BulkChange,
    account: CarrierAccount,
    flow: AnyFlow,
    client: unknown,
    signal: AbortSignal,
    statuses: Array<'waiting' | 'queued'>,
  ): Promise<boolean> {
    const rowsStore = this.#rows();
    for (const status of statuses) {
      const now = Date.now();
      const name = await rowsStore.firstDueStep(bulk.id, status, now, Object.keys(flow.steps));
      if (!name) continue;
      const step = flow.steps[name];
      const attemptId = newId();
      const rows = await rowsStore.claimDue({
        bulkChangeId: bulk.id,
        status,
        step: name,
        now,
        limit: step.chunkSize(account.limits),
        attemptId,
        leaseUntil: now + this.#deps.rowLeaseMs,
      });
      if (rows.length === 0) continue;
      await this.#process(bulk, account, client, { name, step }, rows, attemptId, signal, 'run');
      await this.#advanceLater(this.#deps.db, bulk.id);
      return true;
    }
    return false;
  }

  async #process(
    bulk: BulkChange,
    account: CarrierAccount,
    client: unknown,
    claimed: ClaimedStep,
    rows: WorkRow[],
    attemptId: string,
    signal: AbortSignal,
    mode: 'run' | 'reconcile',
  ): Promise<void> {
    // Each call's entry is written as soon as the call returns, so a crash mid-chunk loses none.
    const auditWrites: Array<Promise<void>> = [];
    const scope = (row: WorkRow<unknown> | null): AuditScope => ({
      tenantId: bulk.tenantId,
      bulkChangeId: bulk.id,
      deviceChangeId: row?.id ?? null,
      carrierAccountId: account.id,
      actor: 'engine',
    });
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
            const payload = stored.get(`${pair.requestId}|${pair.iccid}`);
            return payload ? [[pair.id, payload] as const] : [];
          }),
        );
      },
      recordRequest: (requestRows, requestId) =>
        this.#rows().recordRequest(
          attemptId,
          requestRows.map((row) => row.id),
          requestId,
        ),
      auditFor: (row) => (record: AuditRecord) => {
        this.#deps.onCarrierCall?.(record);
        auditWrites.push(this.#appendAudit([auditEntryFromCall(scope(row), record)]));
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
      outcomes = await this.#outcomes(claimed.step, rows, context, mode);
    } finally {
      clearInterval(heartbeat);
      await Promise.all(auditWrites);
    }
    await this.#commit(account, claimed.step, rows, outcomes, attemptId, {
      bulk,
      aborted: signal.aborted,
      reconciling: mode === 'reconcile',
    });
  }

  async #outcomes(
    step: AnyStep,
    rows: WorkRow[],
    context: StepContext<unknown>,
    mode: 'run' | 'reconcile',
  ): Promise<RowOutcome[]> {
    // A row claimed past its retry budget (say, a commit kept failing) fails rather than goes out again.
    const exhausted = rows.map((row) => row.attempts > context.account.limits.retryBudget);
    const live = rows.filter((_, index) => !exhausted[index]);
    const outcomes = live.length ? await this.#liveOutcomes(step, live, context, mode) : [];
    return rows.map((row, index) =>
      exhausted[index]
        ? {
            kind: 'failed',
            error:
              mode === 'reconcile'
                ? {
                    code: errorCodes.OUTCOME_UNKNOWN,
                    message:
                      'Gave up reading the line after a crash; check it before sending the change again',
                  }
                : {
                    code: errorCodes.RETRIES_EXHAUSTED,
                    message: `Gave up after ${row.attempts - 1} attempts`,
                  },
          }
        : outcomes.shift()!,
    );
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
   * Outcomes, inventory updates and the consequences for the rest of the bulk change, in one
   * transaction. After a shutdown abort, rows whose call may or may not have reached the
   * carrier stay leased, to be reconciled rather than re-sent blindly.
   */
  async #commit(
    account: CarrierAccount,
    step: AnyStep,
    rows: WorkRow[],
    outcomes: RowOutcome[],
    attemptId: string,
    mode: { bulk: BulkChange; aborted: boolean; reconciling: boolean },
  ): Promise<void> {
    const now = Date.now();
    const context = {
      limits: account.limits,
      now,
      reconciling: mode.reconciling,
      canReconcile: !!step.reconcile,
    };
    await inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      await rowsStore.lock(mode.bulk.id);
      const devices = devicesRepository(tx);
      let authFailure: RowError | undefined;
      for (const [index, row] of rows.entries()) {
        const outcome = outcomes[index];
        if (mode.aborted && outcome.kind === 'retry') continue;
        const applied = await rowsStore.transition(attemptId, transitionFor(row, outcome, context), now);
        if (!applied) continue;
        const patch = 'device' in outcome ? outcome.device : undefined;
        if (patch && row.deviceId) await devices.applyPatch(row.deviceId, patch, now);
        if (outcome.kind === 'failed' && outcome.error.code === errorCodes.AUTH_FAILED)
          authFailure = outcome.error;
      }
      if (authFailure) await this.#failRows(tx, mode.bulk, authFailure, now, 'auth');
      // A result that came by callback while its row was busy is waiting already: check it now.
      const waiting = rows.filter((_, index) => outcomes[index].kind === 'next').map((row) => row.id);
      if (waiting.length > 0)
        await carrierResultsRepository(tx).wakeRowsWithResults(account.id, waiting, now);
    });
  }

  /** A failed audit write is logged, never lost silently, and never fails the carrier work it records. */
  #appendAudit(entries: NewAuditEntry[]): Promise<void> {
    return auditRepository(this.#deps.db)
      .append(entries)
      .catch((error) => this.#deps.logger.error({ err: error, entries }, 'could not write audit entries'));
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

  /** Nothing due now: finish the bulk change if no row is open, else wake up when the next one is due. */
  async #settle(bulk: BulkChange, ran?: { flow: AnyFlow; carrier: CarrierName }): Promise<void> {
    await inTransaction(this.#deps.db, async (tx) => {
      const rowsStore = this.#rows(tx);
      await rowsStore.lock(bulk.id);
      const wake = await rowsStore.nextWake(bulk.id);
      if (wake.open) {
        if (wake.at !== null) await this.#advanceLater(tx, bulk.id, Math.max(wake.at, Date.now()));
        return;
      }
      const bulkChanges = bulkChangesRepository(tx);
      const counts = await bulkChanges.counts(bulk.id);
      const current = await bulkChanges.findById(bulk.id);
      if (!current || isTerminalBulkStatus(current.status)) return;
      const followUp = ran?.flow.followUp;
      const followUpFlow = followUp && this.#deps.registry.flowFor(ran.carrier, followUp.changeType);
      if (followUp && followUpFlow && current.cancelRequestedAt === null) {
        await createFollowUp(tx, this.#deps.enqueue, current, followUp, followUpFlow);
      }
      const now = Date.now();
      await rowsStore.finish(bulk.id, {
        status: finalStatus(counts, current.cancelRequestedAt !== null),
        completedAt: now,
        startedAt: current.startedAt ?? now,
      });
    });
  }
}

function groupByStep(rows: WorkRow[]): Map<string, WorkRow[]> {
  const groups = new Map<string, WorkRow[]>();
  for (const row of rows) groups.set(row.step, [...(groups.get(row.step) ?? []), row]);
  return groups;
}
