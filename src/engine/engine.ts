import type { Logger } from 'pino';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { type AuditScope, auditEntryForEvent, auditEntryFromCall } from '../audit/audit-entry.ts';
import { auditRepository, type NewAuditEntry } from '../audit/audit-repository.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import {
  type BulkChangeRow,
  bulkChangesRepository,
  type DeviceChangeRow,
  terminalBulkStatuses,
  toWorkRow,
} from '../bulk-changes/bulk-changes-repository.ts';
import type {
  CarrierAccount,
  CarrierAdapter,
  Flow,
  RowError,
  RowOutcome,
  Step,
  StepContext,
  WorkRow,
} from '../carriers/carrier.ts';
import type { AuditRecord } from '../carriers/http.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type Db, type Dialect, inTransaction, type Tx } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { finalStatus } from './final-status.ts';
import { createFollowUp } from './follow-up.ts';
import { advanceJob, type Enqueue } from './jobs.ts';
import { outcomeFromError, rowErrorCodes } from './outcomes.ts';
import { transitionFor } from './transitions.ts';

export interface EngineDeps {
  db: Db;
  dialect: Dialect;
  accounts: CarrierAccounts;
  registry: CarrierRegistry;
  enqueue: Enqueue;
  logger: Logger;
  /** How long claimed rows stay leased without a heartbeat before another worker reconciles them. */
  rowLeaseMs: number;
  /** Told of every carrier call (metrics). */
  onCarrierCall?: (record: AuditRecord) => void;
  billing: BillingConnections;
}

type ClaimedStep = { name: string; step: Step<unknown, unknown> };

/**
 * Advances one bulk change by one chunk and schedules what comes next (DESIGN §5). A job runs this;
 * it is idempotent, never sleeps, and yields after each chunk so other bulk changes get their turn.
 */
export class Engine {
  readonly #deps: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  async advance(bulkChangeId: string, signal: AbortSignal): Promise<void> {
    const { db, dialect } = this.#deps;
    const repository = bulkChangesRepository(db, dialect);
    const bulk = await repository.findById(bulkChangeId);
    if (!bulk || terminalBulkStatuses.includes(bulk.status as never)) return;
    const now = Date.now();
    if (bulk.cancel_requested_at !== null) await repository.cancelQueuedRows(bulk.id, now);
    if (bulk.status === 'scheduled' && bulk.cancel_requested_at === null && (bulk.scheduled_for ?? 0) > now) {
      await this.#deps.enqueue(db, advanceJob(bulk.id, bulk.scheduled_for!));
      return;
    }
    if (bulk.status === 'scheduled' || bulk.status === 'queued') {
      await repository.update(bulk.id, { status: 'processing', started_at: now });
    }

    const loaded = await this.#deps.accounts.load(bulk.carrier_account_id);
    const adapter = loaded && this.#deps.registry.adapter(loaded.account.carrier);
    const flow = adapter?.flows[bulk.change_type as keyof typeof adapter.flows];
    if (!loaded || !flow) {
      await this.#failOpenRows(bulk, {
        code: 'UNSUPPORTED_CHANGE_TYPE',
        message: `${bulk.change_type} is not supported for this carrier account`,
      });
      return;
    }
    const { account, version } = loaded;
    const client = this.#deps.registry.clientFor(account, version);

    if (await this.#reconcileStale(bulk, account, flow, client, signal)) return;
    const writable = !flow.writesToCarrier || account.writeEnabled;
    if (!writable) {
      await this.#failOpenRows(bulk, {
        code: rowErrorCodes.writeDisabled,
        message: `Writes are disabled on carrier account "${account.name}"; enable them to send changes`,
      });
    }
    // Rows already with the carrier are still confirmed (reads only) when writes are disabled.
    if (
      await this.#runDueChunk(
        bulk,
        account,
        flow,
        client,
        signal,
        writable ? ['waiting', 'queued'] : ['waiting'],
      )
    )
      return;
    await this.#settle(bulk, { flow, adapter: adapter! });
  }

  async #reconcileStale(
    bulk: BulkChangeRow,
    account: CarrierAccount,
    flow: Flow<unknown, unknown>,
    client: unknown,
    signal: AbortSignal,
  ): Promise<boolean> {
    const attemptId = newId();
    const now = Date.now();
    const stale = await bulkChangesRepository(this.#deps.db, this.#deps.dialect).claimStale({
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
    await this.#deps.enqueue(this.#deps.db, advanceJob(bulk.id));
    return true;
  }

  async #runDueChunk(
    bulk: BulkChangeRow,
    account: CarrierAccount,
    flow: Flow<unknown, unknown>,
    client: unknown,
    signal: AbortSignal,
    statuses: Array<'waiting' | 'queued'>,
  ): Promise<boolean> {
    const repository = bulkChangesRepository(this.#deps.db, this.#deps.dialect);
    for (const status of statuses) {
      const now = Date.now();
      const name = await repository.firstDueStep(bulk.id, status, now, Object.keys(flow.steps));
      if (!name) continue;
      const step = flow.steps[name];
      const attemptId = newId();
      const rows = await repository.claimDue({
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
      await this.#deps.enqueue(this.#deps.db, advanceJob(bulk.id));
      return true;
    }
    return false;
  }

  async #process(
    bulk: BulkChangeRow,
    account: CarrierAccount,
    client: unknown,
    claimed: ClaimedStep,
    rows: DeviceChangeRow[],
    attemptId: string,
    signal: AbortSignal,
    mode: 'run' | 'reconcile',
  ): Promise<void> {
    const workRows = rows.map(toWorkRow);
    // Each call's entry is written as soon as the call returns, so a crash mid-chunk loses none.
    const auditWrites: Array<Promise<void>> = [];
    const scope = (row: WorkRow<unknown> | null): AuditScope => ({
      tenantId: bulk.tenant_id,
      bulkChangeId: bulk.id,
      deviceChangeId: row?.id ?? null,
      carrierAccountId: account.id,
      actor: 'engine',
    });
    const context: StepContext<unknown> = {
      client,
      account,
      signal,
      billing: await this.#deps.billing.client(bulk.tenant_id),
      carrierResults: async (resultRows) => {
        const pairs = resultRows
          .filter((row) => row.carrierRequestId && row.iccid)
          .map((row) => ({ id: row.id, requestId: row.carrierRequestId!, iccid: row.iccid! }));
        const stored = await bulkChangesRepository(this.#deps.db, this.#deps.dialect).carrierResults(
          account.id,
          pairs,
        );
        return new Map(
          pairs.flatMap((pair) => {
            const payload = stored.get(`${pair.requestId}|${pair.iccid}`);
            return payload ? [[pair.id, payload] as const] : [];
          }),
        );
      },
      recordRequest: (requestRows, requestId) =>
        bulkChangesRepository(this.#deps.db, this.#deps.dialect).recordRequest(
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
        void bulkChangesRepository(this.#deps.db, this.#deps.dialect)
          .extendLease(attemptId, Date.now() + this.#deps.rowLeaseMs)
          .catch((error) => this.#deps.logger.warn({ err: error }, 'row lease heartbeat failed')),
      Math.max(250, this.#deps.rowLeaseMs / 3),
    );
    let outcomes: RowOutcome[];
    try {
      outcomes = await this.#outcomes(claimed.step, workRows, context, mode);
    } finally {
      clearInterval(heartbeat);
      await Promise.all(auditWrites);
    }
    await this.#commit(bulk, account, claimed.step, workRows, outcomes, attemptId, {
      aborted: signal.aborted,
      reconciling: mode === 'reconcile',
    });
  }

  async #outcomes(
    step: Step<unknown, unknown>,
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
                    code: rowErrorCodes.outcomeUnknown,
                    message:
                      'Gave up reading the line after a crash; check it before sending the change again',
                  }
                : {
                    code: rowErrorCodes.retriesExhausted,
                    message: `Gave up after ${row.attempts - 1} attempts`,
                  },
          }
        : outcomes.shift()!,
    );
  }

  async #liveOutcomes(
    step: Step<unknown, unknown>,
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
    bulk: BulkChangeRow,
    account: CarrierAccount,
    step: Step<unknown, unknown>,
    rows: WorkRow[],
    outcomes: RowOutcome[],
    attemptId: string,
    mode: { aborted: boolean; reconciling: boolean },
  ): Promise<void> {
    const now = Date.now();
    const context = {
      limits: account.limits,
      now,
      reconciling: mode.reconciling,
      canReconcile: !!step.reconcile,
    };
    await inTransaction(this.#deps.db, async (tx) => {
      const repository = bulkChangesRepository(tx, this.#deps.dialect);
      await repository.lock(bulk.id);
      const devices = devicesRepository(tx);
      let authFailure: RowError | undefined;
      for (const [index, row] of rows.entries()) {
        const outcome = outcomes[index];
        if (mode.aborted && outcome.kind === 'retry') continue;
        const applied = await repository.transition(attemptId, transitionFor(row, outcome, context), now);
        if (!applied) continue;
        const patch = 'device' in outcome ? outcome.device : undefined;
        if (patch && row.deviceId) await devices.applyPatch(row.deviceId, patch, now);
        if (outcome.kind === 'failed' && outcome.error.code === rowErrorCodes.authFailed)
          authFailure = outcome.error;
      }
      if (authFailure) await this.#failRows(tx, bulk, authFailure, now, 'auth');
      // A result that came by callback while its row was busy is waiting already: check it now.
      const waiting = rows.filter((_, index) => outcomes[index].kind === 'next').map((row) => row.id);
      if (waiting.length > 0) await repository.wakeRowsWithResults(account.id, waiting, now);
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
  async #failRows(tx: Tx, bulk: BulkChangeRow, error: RowError, now: number, outcome: string): Promise<void> {
    const failed = await bulkChangesRepository(tx, this.#deps.dialect).failOpenRows(bulk.id, error, now);
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

  async #failOpenRows(bulk: BulkChangeRow, error: RowError): Promise<void> {
    await inTransaction(this.#deps.db, (tx) => this.#failRows(tx, bulk, error, Date.now(), 'rejected'));
    await this.#settle(bulk);
  }

  #scope(bulk: BulkChangeRow): AuditScope {
    return {
      tenantId: bulk.tenant_id,
      bulkChangeId: bulk.id,
      deviceChangeId: null,
      carrierAccountId: bulk.carrier_account_id,
      actor: 'engine',
    };
  }

  /** Nothing due now: finish the bulk change if no row is open, else wake up when the next one is due. */
  async #settle(
    bulk: BulkChangeRow,
    followUp?: { flow: Flow<unknown, unknown>; adapter: CarrierAdapter },
  ): Promise<void> {
    const { db, dialect } = this.#deps;
    await inTransaction(db, async (tx) => {
      const repository = bulkChangesRepository(tx, dialect);
      await repository.lock(bulk.id);
      const wake = await repository.nextWake(bulk.id);
      if (wake.open) {
        if (wake.at !== null)
          await this.#deps.enqueue(tx, advanceJob(bulk.id, Math.max(wake.at, Date.now())));
        return;
      }
      const counts = await repository.counts(bulk.id);
      const current = await repository.findById(bulk.id);
      if (!current || terminalBulkStatuses.includes(current.status as never)) return;
      if (followUp && current.cancel_requested_at === null) {
        await createFollowUp(tx, dialect, this.#deps.enqueue, current, followUp.flow, followUp.adapter);
      }
      const now = Date.now();
      await repository.finish(bulk.id, {
        status: finalStatus(counts, current.cancel_requested_at !== null),
        completed_at: now,
        started_at: current.started_at ?? now,
      });
    });
  }
}

function groupByStep(rows: DeviceChangeRow[]): Map<string, DeviceChangeRow[]> {
  const groups = new Map<string, DeviceChangeRow[]>();
  for (const row of rows) groups.set(row.step, [...(groups.get(row.step) ?? []), row]);
  return groups;
}
