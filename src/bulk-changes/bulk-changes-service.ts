import type { Logger } from 'pino';
import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { actorOf } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { BulkChange, NewDeviceChange } from '../core/bulk-change.ts';
import type { ChangeType } from '../core/change-types.ts';
import { destructiveVerb } from '../core/destructive.ts';
import { AppError, conflict, type ErrorDetail, notFound, validationFailed } from '../core/errors.ts';
import { requireModule } from '../core/modules.ts';
import type { Principal } from '../core/roles.ts';
import { isTerminalBulkStatus, type RowStatus } from '../core/statuses.ts';
import type { WavePlan } from '../core/waves.ts';
import { type Db, inTransaction, isUniqueViolation, type Tx } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { page } from '../shared/paging.ts';
import { approvalPolicyRepository } from './approval-policy-repository.ts';
import { approvalRequirement, decideApproval } from './approvals.ts';
import { bulkChangeWriter } from './bulk-change-writer.ts';
import { type BulkChangeFilter, bulkChangesRepository } from './bulk-changes-repository.ts';
import { type InputRow, inBatches, type RowBatch } from './csv-input.ts';
import { estimateSending, type SendEstimate } from './estimate.ts';
import {
  checkFileFields,
  flowFields,
  type IntakeContext,
  rowDefaults,
  type ValidRow,
  validateRows,
} from './intake.ts';
import { IntakeRun } from './intake-run.ts';
import { advanceBulkChange, type Enqueue } from './jobs.ts';
import { logLifecycle } from './lifecycle-log.ts';
import { pauseBulkChange, resumeBulkChange } from './pause.ts';
import { isRowField } from './row-fields.ts';
import { type TargetField, targetFieldsOf } from './target-state.ts';
import { type IrreversibleRow, planUndo, refusedRows } from './undo-plan.ts';
import {
  auditEntryView,
  type BulkChangeView,
  bulkChangeView,
  type DryRunReport,
  deviceChangeView,
  type RowAuditEntryView,
  rowAuditEntryView,
} from './views.ts';

export interface CreateBulkChangeInput {
  carrierAccountId: string;
  changeType: ChangeType;
  /** What the creator calls it; without one it is named from what it does (ADR 0054). */
  name?: string;
  options: Record<string, unknown>;
  scheduledFor?: string;
  dryRun: boolean;
  acceptValidRows: boolean;
  /** The rows, a batch at a time (a CSV is read while it arrives). */
  rows: AsyncIterable<RowBatch>;
  /** The fields of a CSV's columns, checked once against the change type. */
  csvColumns?: string[];
  /** The workbook sheet the rows are, when other sheets feed them (an activation workbook, ADR 0052). */
  rowsSheet?: string;
  /** Problems found before the rows (CSV header), reported with the rows'. */
  inputIssues: ErrorDetail[];
  idempotencyKey?: string;
  /** Told by e-mail when the bulk change ends, besides the tenant's own addresses. */
  notifyEmails?: string[];
  /** Send it in canary waves (docs/guardrails.md). */
  waves?: WavePlan;
  /** Leave out rows whose line already is what they ask for (ADR 0054). */
  skipAlreadyInTarget?: boolean;
  /**
   * The rows are a file exported for editing (it has `current_*` columns, ADR 0059): rows already as
   * they ask are left out whatever `skipAlreadyInTarget` says; blank values keep the line as it is.
   */
  roundTrip?: boolean;
  /** The API or portal request that asks for it, named in its log line. */
  requestId?: string;
  /** The bulk change it reverses: set by `undoInput` only, never by a caller's field. */
  undoOf?: string;
}

/** An undo's input, its rows in memory: what the portal previews, and then submits as it showed it. */
export type UndoInput = Omit<CreateBulkChangeInput, 'dryRun' | 'acceptValidRows' | 'rows'> & {
  rows: InputRow[];
  undoOf: string;
};

/** The undo of a bulk change: created, or its dry run; either with the rows it leaves alone and why. */
export type UndoOutcome =
  | { created: BulkChangeView; irreversible: IrreversibleRow[] }
  | (DryRunReport & { undoOf: string; irreversible: IrreversibleRow[] });

export class BulkChanges {
  readonly #db: Db;
  readonly #accounts: CarrierAccounts;
  readonly #registry: CarrierRegistry;
  readonly #enqueue: Enqueue;
  readonly #logger: Logger;

  constructor(deps: {
    db: Db;
    accounts: CarrierAccounts;
    registry: CarrierRegistry;
    enqueue: Enqueue;
    logger: Logger;
  }) {
    this.#db = deps.db;
    this.#accounts = deps.accounts;
    this.#registry = deps.registry;
    this.#enqueue = deps.enqueue;
    this.#logger = deps.logger;
  }

  #repository(db: Db = this.#db) {
    return bulkChangesRepository(db);
  }

  async create(
    principal: Principal,
    input: CreateBulkChangeInput,
  ): Promise<
    { created: BulkChangeView; rejected: ErrorDetail[]; skipped: number; replayed: boolean } | DryRunReport
  > {
    const { account, adapter, flow } = await this.#flowFor(
      principal,
      input.carrierAccountId,
      input.changeType,
    );
    const requestedFor = parseSchedule(input.scheduledFor);
    const defaults = rowDefaults(input.options);
    const fileFields = checkFileFields({
      flow,
      changeType: input.changeType,
      optionFields: Object.keys(defaults),
      csvColumns: input.csvColumns,
    });
    const run = new IntakeRun(
      {
        ...this.#intakeContext(principal, { account, adapter, flow }, input.changeType, defaults),
        skipAlreadyInTarget: input.skipAlreadyInTarget === true,
        roundTrip: input.roundTrip === true,
        badColumns: fileFields.badColumns,
        ...(input.rowsSheet ? { rowsSheet: input.rowsSheet } : {}),
      },
      {
        requestFields: [
          input.carrierAccountId,
          input.changeType,
          input.options,
          input.scheduledFor ?? null,
          input.acceptValidRows,
          // Only when given, so a request hashed before the field existed hashes the same.
          ...(input.notifyEmails?.length ? [input.notifyEmails] : []),
          ...(input.waves ? [input.waves] : []),
          ...(input.skipAlreadyInTarget ? [{ skipAlreadyInTarget: true }] : []),
          ...(input.roundTrip ? [{ roundTrip: true }] : []),
          ...(input.name ? [{ name: input.name }] : []),
        ],
        requestIssues: [...input.inputIssues, ...fileFields.issues],
        keepDryRun: input.dryRun,
      },
    );
    // One iterator for the whole request: after a race it goes on where it stopped.
    const batches = input.rows[Symbol.asyncIterator]();
    if (input.dryRun) {
      for (let next = await batches.next(); !next.done; next = await batches.next())
        await run.check(next.value);
      if (run.total === 0) throw noRows();
      return dryRunReport(
        run,
        estimateSending(flow, account.limits, run.rowsByFirstStep, {
          rows: run.waitingRows,
          lastStart: run.lastStart,
        }),
      );
    }
    if (input.idempotencyKey) {
      const earlier = await this.#repository().findByIdempotencyKey(principal.tenantId, input.idempotencyKey);
      if (earlier) return this.#replay(earlier, run, batches);
    }

    let id: string;
    try {
      id = await inTransaction(this.#db, async (tx) => {
        const bulkId = await this.#begin(tx, {
          principal,
          carrierAccountId: account.id,
          changeType: input.changeType,
          name: input.name,
          options: input.options,
          idempotencyKey: input.idempotencyKey ?? null,
          notifyEmails: input.notifyEmails ?? [],
          wavePlan: input.waves,
          undoOf: input.undoOf,
        });
        const targets = new Set<string>();
        for (let next = await batches.next(); !next.done; next = await batches.next()) {
          const valid = await run.check(next.value, { db: tx, bulkChangeId: bulkId });
          for (const row of valid) addTarget(targets, row.request);
          await this.#addRows(tx, principal, bulkId, valid);
        }
        refuseUnlessAccepted(run, input.acceptValidRows);
        if (run.valid === 0) throw nothingToChange(run.skipped);
        await bulkChangeWriter(tx, this.#enqueue).end(bulkId, {
          total: run.valid,
          scheduledFor: requestedFor ?? run.scheduledStart,
          requestHash: run.requestHash,
          actor: actorOf(principal),
          ...(await guardrailsFor(tx, principal.tenantId, input.changeType, targets, run.valid)),
        });
        return bulkId;
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.#afterRace(principal, input.idempotencyKey, run, batches);
    }
    const created = await this.find(principal.tenantId, id);
    logLifecycle(this.#logger, created, { step: 'created', requestId: input.requestId });
    return {
      created: await this.view(created),
      rejected: run.issues,
      skipped: run.skipped,
      replayed: false,
    };
  }

  /** The same Idempotency-Key again: the same request gets the original answer, another one a 409. */
  async #replay(earlier: BulkChange, run: IntakeRun, batches: AsyncIterator<RowBatch>) {
    for (let next = await batches.next(); !next.done; next = await batches.next()) run.hashOnly(next.value);
    if (earlier.requestHash !== run.requestHash) {
      throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
    }
    return { created: await this.view(earlier), rejected: [], skipped: 0, replayed: true };
  }

  async view(change: BulkChange): Promise<BulkChangeView> {
    const account = await this.#accounts.get(change.tenantId, change.carrierAccountId);
    return bulkChangeView(change, account);
  }

  /**
   * What a file exported for editing holds for this account and change type (ADR 0059): the column
   * the account's lines are named by, and the fields its flow takes that the inventory holds (the
   * communication plan only where the carrier has one).
   */
  async editableFields(
    principal: Principal,
    carrierAccountId: string,
    changeType: ChangeType,
  ): Promise<{ keyField: 'iccid' | 'msisdn' | 'eid'; fields: TargetField[] }> {
    const { adapter, flow } = await this.#flowFor(principal, carrierAccountId, changeType);
    const taken = flowFields(flow);
    return {
      keyField: flow.newLines?.keyField ?? adapter.keyField,
      fields: targetFieldsOf(changeType).filter(({ field }) => taken.has(field)),
    };
  }

  async find(tenantId: string, id: string): Promise<BulkChange> {
    const row = await this.#repository().find(tenantId, id);
    if (!row) throw notFound('Bulk change');
    return row;
  }

  async get(tenantId: string, id: string): Promise<BulkChangeView> {
    return this.view(await this.find(tenantId, id));
  }

  async list(tenantId: string, filter: BulkChangeFilter) {
    const rows = await this.#repository().list(tenantId, { ...filter, limit: filter.limit + 1 });
    const listed = page(
      rows,
      filter.limit,
      (row) => row,
      (row) => row.id,
    );
    return { ...listed, items: await Promise.all(listed.items.map((row) => this.view(row))) };
  }

  async changes(
    tenantId: string,
    id: string,
    filter: { status?: RowStatus; cursor?: string; limit: number },
  ) {
    await this.find(tenantId, id);
    const afterRow = filter.cursor === undefined ? undefined : Number(filter.cursor);
    const rows = await this.#repository().listChanges(id, {
      status: filter.status,
      afterRow,
      limit: filter.limit + 1,
    });
    return page(rows, filter.limit, deviceChangeView, (row) => row.rowNumber);
  }

  /** One row of the bulk change. */
  async change(tenantId: string, id: string, changeId: string) {
    await this.find(tenantId, id);
    return deviceChangeView(await this.#row(id, changeId));
  }

  async #row(id: string, changeId: string) {
    const change = await this.#repository().findChange(id, changeId);
    if (!change) throw notFound('Row');
    return change;
  }

  /**
   * One row with its timeline (API §7): every call that carried it, batch calls and callbacks included,
   * each cut down to the row's part, with the cursor of the rest when there are more.
   */
  async rowWithTimeline(tenantId: string, id: string, changeId: string, limit: number) {
    const row = await this.change(tenantId, id, changeId);
    const timeline = await this.log(tenantId, id, { changeId, limit });
    return { ...row, timeline: timeline.items, timelineNextCursor: timeline.nextCursor };
  }

  /** The bulk change's rows for these lines, in row order. */
  async changesForDevices(tenantId: string, id: string, deviceIds: string[]) {
    await this.find(tenantId, id);
    return (await this.#repository().changesForDevices(id, deviceIds)).map(deviceChangeView);
  }

  /** The bulk change's audit entries; with `changeId`, the row's timeline (batch calls cut to its part). */
  async log(
    tenantId: string,
    id: string,
    filter: { changeId?: string; cursor?: string; limit: number },
  ): Promise<{ items: RowAuditEntryView[]; nextCursor: string | null }> {
    await this.find(tenantId, id);
    const row = filter.changeId === undefined ? undefined : await this.#row(id, filter.changeId);
    const afterId = filter.cursor === undefined ? undefined : Number(filter.cursor);
    const rows = await auditRepository(this.#db).listForBulkChange(id, {
      changeId: filter.changeId,
      afterId,
      limit: filter.limit + 1,
    });
    return page(
      rows,
      filter.limit,
      (entry) => (row ? rowAuditEntryView(entry, row) : { ...auditEntryView(entry), sliced: false }),
      (entry) => entry.id,
    );
  }

  /** Every row, in pages, for the results export, each with the calls it is on (`action#entryId`). */
  async *allChanges(tenantId: string, id: string) {
    await this.find(tenantId, id);
    let afterRow: number | undefined;
    for (;;) {
      const rows = await this.#repository().listChanges(id, { afterRow, limit: 1000 });
      if (rows.length === 0) return;
      const calls = await auditRepository(this.#db).callsForRows(rows.map((row) => row.id));
      yield* rows.map((row) => ({ ...deviceChangeView(row), calls: calls.get(row.id) ?? [] }));
      afterRow = rows[rows.length - 1].rowNumber;
    }
  }

  /** Rows not yet sent are cancelled now; rows already with the carrier finish (DESIGN §5). */
  async cancel(principal: Principal, id: string, requestId?: string): Promise<BulkChangeView> {
    const { tenantId } = principal;
    const change = await this.#findToActOn(principal, id);
    if (isTerminalBulkStatus(change.status)) {
      throw conflict('BULK_CHANGE_FINISHED', `The bulk change is already ${change.status}`);
    }
    const now = Date.now();
    const rowsCancelled = await inTransaction(this.#db, async (tx) => {
      const repository = bulkChangesRepository(tx);
      await repository.update(id, { cancelRequestedAt: change.cancelRequestedAt ?? now }, now);
      const cancelled = await repository.cancelQueuedRows(id, now);
      await this.#enqueue(tx, advanceBulkChange.job({ bulkChangeId: id }));
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId,
          actor: actorOf(principal),
          action: 'bulk_change.cancel',
          subject: { bulkChangeId: id, carrierAccountId: change.carrierAccountId },
          before: { status: change.status },
          after: { cancelRequested: true, rowsCancelled: cancelled },
          at: now,
        }),
      ]);
      return cancelled;
    });
    const requested = await this.find(tenantId, id);
    logLifecycle(this.#logger, requested, { step: 'cancel_requested', requestId, rowsCancelled });
    return this.view(requested);
  }

  /**
   * Sends nothing new to the carrier until resumed; rows already with the carrier are still confirmed
   * (docs/guardrails.md). A person's pause also takes over one by the circuit, which would otherwise
   * resume by itself; pausing a change paused already changes nothing.
   */
  async pause(principal: Principal, id: string): Promise<BulkChangeView> {
    const change = await this.#findToActOn(principal, id);
    if (isTerminalBulkStatus(change.status)) {
      throw conflict('BULK_CHANGE_FINISHED', `The bulk change is already ${change.status}`);
    }
    await inTransaction(this.#db, (tx) =>
      pauseBulkChange(
        tx,
        this.#enqueue,
        change,
        { reason: 'manual', actor: actorOf(principal), detail: {}, at: Date.now() },
        ['circuit_open', 'blast_radius_cap'],
      ),
    );
    return this.get(principal.tenantId, id);
  }

  /** Carries on where the change stopped: the rows not yet sent go out, none twice (docs/guardrails.md). */
  async resume(principal: Principal, id: string): Promise<BulkChangeView> {
    const change = await this.#findToActOn(principal, id);
    const resumed = await inTransaction(this.#db, (tx) =>
      resumeBulkChange(tx, this.#enqueue, change, { actor: actorOf(principal), at: Date.now() }),
    );
    if (!resumed) {
      throw conflict('BULK_CHANGE_NOT_PAUSED', `The bulk change is ${change.status}, not paused`);
    }
    return this.get(principal.tenantId, id);
  }

  /**
   * Decides a change held by the tenant's approval policy (docs/guardrails.md): approved, it goes
   * ahead; rejected, it is cancelled and its lines are free again. Never by its creator (four eyes).
   */
  async decide(
    principal: Principal,
    id: string,
    decision: { outcome: 'approved' | 'rejected'; note: string | null },
  ): Promise<BulkChangeView> {
    const change = await this.#findToActOn(principal, id);
    const actor = actorOf(principal);
    if (change.status !== 'awaiting_approval' || change.cancelRequestedAt !== null) {
      throw conflict(
        'BULK_CHANGE_NOT_AWAITING_APPROVAL',
        `The bulk change is ${change.status}, not awaiting approval`,
      );
    }
    if (change.createdByActor === actor.id) {
      throw new AppError(
        'SELF_APPROVAL',
        'You created this bulk change: another key or user with the approver role must decide it',
      );
    }
    const decided = await inTransaction(this.#db, (tx) =>
      decideApproval(tx, this.#enqueue, change, {
        ...decision,
        actor,
        actorName: principal.keyName,
        at: Date.now(),
      }),
    );
    if (!decided) {
      const now = await this.find(principal.tenantId, id);
      throw conflict(
        'BULK_CHANGE_NOT_AWAITING_APPROVAL',
        `The bulk change is ${now.status}, not awaiting approval`,
      );
    }
    const after = await this.find(principal.tenantId, id);
    logLifecycle(this.#logger, after, { step: decision.outcome });
    return this.view(after);
  }

  /**
   * A new bulk change, with `parentId` this one, holding its failed rows — once: a second retry is a
   * 409. The rows are checked again as at intake (a line may since be busy, archived or gone); those
   * that fail the checks are listed in `rejectedRows`.
   */
  async retry(
    principal: Principal,
    id: string,
    requestId?: string,
  ): Promise<{ created: BulkChangeView; rejected: ErrorDetail[] }> {
    const parent = await this.find(principal.tenantId, id);
    if (!isTerminalBulkStatus(parent.status)) {
      throw conflict('BULK_CHANGE_RUNNING', 'Retry failed rows once the bulk change has finished');
    }
    if (parent.retriedAsId) {
      throw conflict(
        'ALREADY_RETRIED',
        `The failed rows were already retried in bulk change ${parent.retriedAsId}`,
      );
    }
    const failed = await this.#repository().failedRows(id);
    if (failed.length === 0) throw conflict('NOTHING_TO_RETRY', 'The bulk change has no failed rows');
    const { account, adapter, flow } = await this.#flowFor(
      principal,
      parent.carrierAccountId,
      parent.changeType,
    );
    const keyField = flow.newLines?.keyField ?? adapter.keyField;
    const rows: InputRow[] = failed.map((change) => ({
      row: change.rowNumber,
      fields: { ...change.request, [keyField]: change[keyField] },
    }));
    const checked = await validateRows({
      ...this.#intakeContext(principal, { account, adapter, flow }, parent.changeType, {}),
      rows,
    });
    if (checked.valid.length === 0) {
      throw validationFailed(
        checked.issues,
        'None of the failed rows can be retried now; nothing was created',
      );
    }
    try {
      const retryId = await inTransaction(this.#db, async (tx) => {
        const bulkId = await this.#begin(tx, {
          principal,
          carrierAccountId: account.id,
          changeType: parent.changeType,
          // A name given to the parent carries over; a generated one is made again for the retry's rows.
          ...(parent.name ? { name: `${parent.name} (retry)` } : {}),
          options: parent.options,
          idempotencyKey: null,
          parentId: parent.id,
          notifyEmails: parent.notifyEmails,
          // A retry goes out in the same waves, checked the same way.
          wavePlan: parent.waves?.plan,
        });
        await this.#addRows(tx, principal, bulkId, checked.valid);
        const actor = actorOf(principal);
        const targets = new Set<string>();
        for (const row of checked.valid) addTarget(targets, row.request);
        // A retry is a new change: the tenant's approval policy holds it as it would any other.
        await bulkChangeWriter(tx, this.#enqueue).end(bulkId, {
          total: checked.valid.length,
          actor,
          ...(await guardrailsFor(tx, principal.tenantId, parent.changeType, targets, checked.valid.length)),
        });
        await auditRepository(tx).append([
          auditEntryForChange({
            tenantId: principal.tenantId,
            actor,
            action: 'bulk_change.retry',
            subject: { bulkChangeId: parent.id, carrierAccountId: parent.carrierAccountId },
            after: { retriedAs: bulkId, rows: checked.valid.length, rejectedRows: checked.issues.length },
          }),
        ]);
        return bulkId;
      });
      const created = await this.find(principal.tenantId, retryId);
      logLifecycle(this.#logger, created, { step: 'created', requestId });
      return { created: await this.view(created), rejected: checked.issues };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw conflict(
        'LINE_IN_RUNNING_CHANGE',
        'Some of these lines were just put in another bulk change; try again',
      );
    }
  }

  /**
   * The reverse of a finished bulk change, as an ordinary bulk change of the same type linked to it
   * (`undoOf`), checked, previewed (`dryRun`), audited and run like any other (docs/guardrails.md, ADR
   * 0048). Its rows set back what each succeeded row changed on its line; the rows it leaves alone are
   * listed with their reason, as are reverse rows intake refuses (they are left out, never fatal).
   */
  async undo(
    principal: Principal,
    id: string,
    request: { dryRun: boolean; options: Record<string, unknown>; requestId?: string },
  ): Promise<UndoOutcome> {
    const { input, plan } = await this.#undoPlan(principal, id, request.options);
    const outcome = await this.create(principal, {
      ...input,
      rows: inBatches(input.rows),
      dryRun: request.dryRun,
      acceptValidRows: true,
      requestId: request.requestId,
    });
    if ('dryRun' in outcome) {
      const refused = refusedRows(
        plan,
        outcome.rows.filter((row) => row.outcome === 'would_fail'),
      );
      return { ...outcome, undoOf: id, irreversible: inRowOrder([...plan.irreversible, ...refused]) };
    }
    return {
      created: outcome.created,
      irreversible: inRowOrder([...plan.irreversible, ...refusedRows(plan, outcome.rejected)]),
    };
  }

  /** What an undo of the bulk change would send, for the portal to preview as any upload. */
  async undoInput(
    principal: Principal,
    id: string,
    options: Record<string, unknown> = {},
  ): Promise<{ input: UndoInput; irreversible: IrreversibleRow[] }> {
    const { input, plan } = await this.#undoPlan(principal, id, options);
    return { input, irreversible: plan.irreversible };
  }

  async #undoPlan(principal: Principal, id: string, options: Record<string, unknown>) {
    const original = await this.#findToActOn(principal, id);
    if (!isTerminalBulkStatus(original.status)) {
      throw conflict('BULK_CHANGE_RUNNING', 'Undo a bulk change once it has finished');
    }
    if (original.undoneAsId) {
      throw conflict(
        'ALREADY_UNDONE',
        `The bulk change was already undone by bulk change ${original.undoneAsId}`,
      );
    }
    const { account, adapter } = await this.#flowFor(
      principal,
      original.carrierAccountId,
      original.changeType,
    );
    const plan = await planUndo(this.#db, original, account.carrier, adapter.keyField);
    if (plan.rows.length === 0) {
      throw new AppError(
        'NOTHING_TO_UNDO',
        'None of the rows of the bulk change can be reversed; details say why, row by row',
        plan.irreversible
          .slice(0, MAX_LISTED)
          .map((row) => ({ row: row.row, code: row.reason, message: row.message })),
      );
    }
    const input: UndoInput = {
      carrierAccountId: original.carrierAccountId,
      changeType: original.changeType,
      options,
      inputIssues: unknownOptions(options),
      rows: plan.rows,
      undoOf: original.id,
    };
    return { input, plan };
  }

  /** A new bulk change's row; a retry also marks its parent, and fails when it was retried meanwhile. */
  async #begin(
    tx: Tx,
    options: {
      principal: Principal;
      carrierAccountId: string;
      changeType: ChangeType;
      name?: string;
      options: Record<string, unknown>;
      idempotencyKey: string | null;
      parentId?: string;
      notifyEmails: string[];
      wavePlan?: WavePlan;
      undoOf?: string;
    },
  ): Promise<string> {
    const now = Date.now();
    const id = newId(now);
    await bulkChangeWriter(tx, this.#enqueue).begin({
      id,
      tenantId: options.principal.tenantId,
      carrierAccountId: options.carrierAccountId,
      changeType: options.changeType,
      name: options.name ?? null,
      options: options.options,
      createdBy: options.principal.keyName,
      createdByActor: actorOf(options.principal).id,
      createdAt: now,
      idempotencyKey: options.idempotencyKey,
      parentId: options.parentId ?? null,
      linkedId: null,
      notifyEmails: options.notifyEmails,
      wavePlan: options.wavePlan,
      undoOf: options.undoOf,
    });
    if (options.parentId && !(await bulkChangesRepository(tx).markRetried(options.parentId, id))) {
      throw conflict('ALREADY_RETRIED', 'The failed rows were retried meanwhile');
    }
    if (options.undoOf) await this.#markUndone(tx, options.principal, options.undoOf, id);
    return id;
  }

  /** The reversed bulk change names its undo, once: a second undo, even one racing this one, is a 409. */
  async #markUndone(tx: Tx, principal: Principal, undoOf: string, undoId: string): Promise<void> {
    const original = await bulkChangesRepository(tx).find(principal.tenantId, undoOf);
    if (!original) throw notFound('Bulk change');
    if (!(await bulkChangesRepository(tx).markUndone(undoOf, undoId))) {
      throw conflict('ALREADY_UNDONE', 'The bulk change was undone meanwhile');
    }
    await auditRepository(tx).append([
      auditEntryForChange({
        tenantId: principal.tenantId,
        actor: actorOf(principal),
        action: 'bulk_change.undo',
        subject: { bulkChangeId: undoOf, carrierAccountId: original.carrierAccountId },
        after: { undoneAs: undoId },
      }),
    ]);
  }

  /** A batch of checked rows: lines new to the inventory first (new service), then the rows. */
  async #addRows(tx: Tx, principal: Principal, bulkChangeId: string, rows: ValidRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    await devicesRepository(tx).insertMany(
      rows.filter((row) => row.isNewLine).map((row) => row.device),
      now,
    );
    await bulkChangeWriter(tx, this.#enqueue).addRows(
      rows.map(
        (row): NewDeviceChange => ({
          id: newId(now),
          tenantId: principal.tenantId,
          bulkChangeId,
          rowNumber: row.row,
          deviceId: row.device.id,
          ...row.identifiers,
          request: row.request,
          status: 'queued',
          step: row.step,
          nextCheckAt: row.notBefore ?? null,
        }),
      ),
      now,
    );
  }

  /**
   * Another request won a race with this one: the same Idempotency-Key (answer as a replay, once the
   * rest of this request is hashed), or some of the same lines (intake will report them now).
   */
  async #afterRace(
    principal: Principal,
    idempotencyKey: string | undefined,
    run: IntakeRun,
    batches: AsyncIterator<RowBatch>,
  ) {
    const winner = idempotencyKey
      ? await this.#repository().findByIdempotencyKey(principal.tenantId, idempotencyKey)
      : undefined;
    if (winner) return this.#replay(winner, run, batches);
    throw validationFailed(
      [
        {
          code: 'LINE_IN_RUNNING_CHANGE',
          message:
            'Some lines were put in another bulk change while this one was checked; send it again to see which',
        },
      ],
      'Some lines were put in another bulk change while this one was checked; nothing was created',
    );
  }

  #intakeContext(
    principal: Principal,
    target: Pick<IntakeContext, 'account' | 'adapter' | 'flow'>,
    changeType: ChangeType,
    defaults: Record<string, unknown>,
  ): IntakeContext {
    return {
      db: this.#db,
      tenantId: principal.tenantId,
      ...target,
      changeType,
      defaults,
      skipAlreadyInTarget: false,
      roundTrip: false,
      quotaCalendar: this.#registry.quotaCalendar,
    };
  }

  /** A bulk change the caller may act on: a user whose modules do not include its account's is refused. */
  async #findToActOn(principal: Principal, id: string): Promise<BulkChange> {
    const change = await this.find(principal.tenantId, id);
    if (principal.modules !== undefined) {
      requireModule(principal.modules, await this.#accounts.get(principal.tenantId, change.carrierAccountId));
    }
    return change;
  }

  /** The account's flow for the change type, for a caller whose modules include the account's. */
  async #flowFor(principal: Principal, carrierAccountId: string, changeType: ChangeType) {
    const account = this.#accounts.view(await this.#accounts.get(principal.tenantId, carrierAccountId));
    requireModule(principal.modules, account);
    const adapter = this.#registry.adapter(account.carrier);
    const flow = this.#registry.flowFor(account.carrier, changeType);
    if (!adapter || !flow) {
      const supported = Object.keys(adapter?.flows ?? {}).join(', ');
      throw validationFailed(
        [
          {
            field: 'changeType',
            code: 'UNSUPPORTED_CHANGE_TYPE',
            message: `${account.carrier} accounts support: ${supported}`,
          },
        ],
        `${changeType} is not supported on carrier account "${account.name}"`,
      );
    }
    return { account, adapter, flow };
  }
}

/** A date, or a date and time with `Z` or an offset: `Date.parse` alone reads `%00` or `12` as a year. */
const scheduleSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

function parseSchedule(value: string | undefined): number | null {
  if (!value) return null;
  const at = scheduleSchema.safeParse(value).success ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw validationFailed([
      {
        field: 'scheduledFor',
        code: 'INVALID_DATE',
        message: 'scheduledFor must be an ISO-8601 date, or date and time with Z or an offset',
      },
    ]);
  }
  return at > Date.now() ? at : null;
}

const inRowOrder = (rows: IrreversibleRow[]) => rows.sort((a, b) => a.row - b.row);

/** Details listed at most in one answer, as intake lists its problems. */
const MAX_LISTED = 1000;

/** An undo's options are defaults for its rows (a Telegence `reasonCode`): anything else is refused. */
function unknownOptions(options: Record<string, unknown>): ErrorDetail[] {
  return Object.keys(options)
    .filter((key) => !isRowField(key))
    .map((key) => ({ field: `options.${key}`, code: 'UNKNOWN_FIELD', message: `${key} is not a row field` }));
}

function noRows() {
  return validationFailed([{ code: 'NO_ROWS', message: 'The request has no rows' }]);
}

/** Refuses the request, unless its valid rows may go ahead alone (`acceptValidRows`, no file problem). */
function refuseUnlessAccepted(run: IntakeRun, acceptValidRows: boolean): void {
  if (run.total === 0) throw noRows();
  const problems = run.issues.length > 0;
  const fileLevel = run.fileIssues.length > 0;
  if (!problems || (acceptValidRows && !fileLevel && run.valid > 0)) return;
  throw validationFailed(
    run.issues,
    `${run.rejectedRows} of ${run.total} rows have problems${fileLevel ? ' and the file has problems' : ''}; nothing was created${run.moreIssues > 0 ? ` (${run.moreIssues} more problems not listed)` : ''}`,
  );
}

/** Every row was left out (already in its target, or a round trip's row not edited): no rows would do nothing. */
function nothingToChange(skipped: number) {
  return new AppError(
    'NOTHING_TO_CHANGE',
    `Every row (${skipped}) is left out: its line already is what it asks for, or it was not edited in a file exported for editing; nothing was created`,
  );
}

function dryRunReport(run: IntakeRun, estimate: SendEstimate): DryRunReport {
  const wouldSucceed = run.dryRunRows.filter((row) => row.outcome === 'would_succeed').length;
  const wouldSkip = run.dryRunRows.filter((row) => row.outcome === 'would_skip').length;
  return {
    dryRun: true,
    summary: { total: run.total, wouldSucceed, wouldFail: run.total - wouldSucceed - wouldSkip, wouldSkip },
    estimate,
    fileIssues: run.fileIssues,
    rows: run.dryRunRows,
  };
}

/** A row's target status, gathered to tell whether the change is destructive (core/destructive.ts). */
function addTarget(targets: Set<string>, request: Record<string, unknown>): void {
  if (typeof request.targetStatus === 'string') targets.add(request.targetStatus);
}

/**
 * What the tenant's guardrails make of a new change (docs/guardrails.md): whether it is destructive
 * (the blast-radius cap counts its lines) and whether the approval policy holds it.
 */
async function guardrailsFor(
  tx: Tx,
  tenantId: string,
  changeType: ChangeType,
  targets: ReadonlySet<string>,
  lines: number,
) {
  const destructiveAction = destructiveVerb(changeType, targets) ?? null;
  if (destructiveAction === null) return { destructiveAction };
  const policy = await approvalPolicyRepository(tx).find(tenantId);
  return { destructiveAction, approval: approvalRequirement(policy, destructiveAction, lines) };
}
