import { createHash } from 'node:crypto';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import type { Principal } from '../accounts/roles.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type Db, type Dialect, inTransaction } from '../db/database.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { advanceJob, type Enqueue } from '../engine/jobs.ts';
import { conflict, type ErrorDetail, notFound, validationFailed } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { page } from '../shared/paging.ts';
import {
  type BulkChangeFilter,
  type BulkChangeRow,
  bulkChangesRepository,
  terminalBulkStatuses,
} from './bulk-changes-repository.ts';
import type { InputRow } from './csv-input.ts';
import { checkFileFields, rowDefaults, type ValidRow, validateRows } from './intake.ts';
import { auditEntryView, type BulkChangeView, bulkChangeView, deviceChangeView } from './views.ts';

export interface CreateBulkChangeInput {
  carrierAccountId: string;
  changeType: string;
  options: Record<string, unknown>;
  scheduledFor?: string;
  dryRun: boolean;
  acceptValidRows: boolean;
  rows: InputRow[];
  /** The fields of a CSV's columns, checked once against the change type. */
  csvColumns?: string[];
  /** Problems found before the rows (CSV header), reported with the rows'. */
  inputIssues: ErrorDetail[];
  idempotencyKey?: string;
}

export interface DryRunReport {
  dryRun: true;
  summary: { total: number; wouldSucceed: number; wouldFail: number };
  /** Problems of the whole request (columns, options): the real submission would be refused for them. */
  fileIssues: ErrorDetail[];
  rows: Array<{
    row: number;
    iccid: string | null;
    outcome: 'would_succeed' | 'would_fail';
    code?: string;
    message?: string;
    field?: string;
  }>;
}

/** Details listed in one 422; the message says how many more there were. */
const MAX_DETAILS = 1000;

export class BulkChanges {
  readonly #db: Db;
  readonly #dialect: Dialect;
  readonly #accounts: CarrierAccounts;
  readonly #registry: CarrierRegistry;
  readonly #enqueue: Enqueue;

  constructor(deps: {
    db: Db;
    dialect: Dialect;
    accounts: CarrierAccounts;
    registry: CarrierRegistry;
    enqueue: Enqueue;
  }) {
    this.#db = deps.db;
    this.#dialect = deps.dialect;
    this.#accounts = deps.accounts;
    this.#registry = deps.registry;
    this.#enqueue = deps.enqueue;
  }

  #repository(db: Db = this.#db) {
    return bulkChangesRepository(db, this.#dialect);
  }

  async create(
    principal: Principal,
    input: CreateBulkChangeInput,
  ): Promise<{ created: BulkChangeView; rejected: ErrorDetail[]; replayed: boolean } | DryRunReport> {
    const requestHash = hashRequest(input);
    if (input.idempotencyKey && !input.dryRun) {
      const earlier = await this.#repository().findByIdempotencyKey(principal.tenantId, input.idempotencyKey);
      if (earlier) {
        if (earlier.request_hash !== requestHash) {
          throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
        }
        return { created: await this.view(earlier), rejected: [], replayed: true };
      }
    }

    const { account, adapter, flow } = await this.#flowFor(
      principal.tenantId,
      input.carrierAccountId,
      input.changeType,
    );
    const requestedFor = parseSchedule(input.scheduledFor);
    if (input.rows.length === 0)
      throw validationFailed([{ code: 'NO_ROWS', message: 'The request has no rows' }]);

    const fileFields = checkFileFields({
      flow,
      changeType: input.changeType,
      optionFields: Object.keys(rowDefaults(input.options)),
      csvColumns: input.csvColumns,
      rows: input.rows,
    });
    const checked = await validateRows({
      db: this.#db,
      dialect: this.#dialect,
      tenantId: principal.tenantId,
      account,
      adapter,
      flow,
      changeType: input.changeType,
      rows: fileFields.rows,
      defaults: rowDefaults(input.options),
    });
    const issues = [...input.inputIssues, ...fileFields.issues, ...checked.issues];
    if (input.dryRun) return dryRunReport(input.rows, checked.valid, issues);
    const fileLevel = issues.filter((issue) => issue.row === undefined);
    if (issues.length > 0 && (!input.acceptValidRows || fileLevel.length > 0 || checked.valid.length === 0)) {
      const shown = issues.slice(0, MAX_DETAILS);
      const more = issues.length - shown.length;
      throw validationFailed(
        shown,
        `${checked.rejectedRows.size} of ${input.rows.length} rows have problems${fileLevel.length ? ' and the file has problems' : ''}; nothing was created${more > 0 ? ` (${more} more problems not listed)` : ''}`,
      );
    }

    // Rows scheduled for their effective date: the bulk change waits for the first of them.
    const scheduledFor = requestedFor ?? firstStart(checked.valid);
    let id: string;
    try {
      id = await this.#insert({
        principal,
        carrierAccountId: account.id,
        changeType: input.changeType,
        options: input.options,
        scheduledFor,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash,
        rows: checked.valid,
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.#afterRace(principal, input, requestHash, checked.valid);
    }
    return { created: await this.get(principal.tenantId, id), rejected: issues, replayed: false };
  }

  async view(row: BulkChangeRow): Promise<BulkChangeView> {
    const account = await this.#accounts.get(row.tenant_id, row.carrier_account_id);
    return bulkChangeView(row, await this.#repository().counts(row.id), account.carrier);
  }

  async find(tenantId: string, id: string): Promise<BulkChangeRow> {
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

  async changes(tenantId: string, id: string, filter: { status?: string; cursor?: string; limit: number }) {
    await this.find(tenantId, id);
    const afterRow = filter.cursor === undefined ? undefined : Number(filter.cursor);
    const rows = await this.#repository().listChanges(id, {
      status: filter.status,
      afterRow,
      limit: filter.limit + 1,
    });
    return page(rows, filter.limit, deviceChangeView, (row) => row.row_number);
  }

  async log(tenantId: string, id: string, filter: { changeId?: string; cursor?: string; limit: number }) {
    await this.find(tenantId, id);
    const afterId = filter.cursor === undefined ? undefined : Number(filter.cursor);
    const rows = await auditRepository(this.#db).listForBulkChange(id, {
      changeId: filter.changeId,
      afterId,
      limit: filter.limit + 1,
    });
    return page(rows, filter.limit, auditEntryView, (row) => row.id);
  }

  /** Every row, in pages, for the results export. */
  async *allChanges(tenantId: string, id: string) {
    await this.find(tenantId, id);
    let afterRow: number | undefined;
    for (;;) {
      const rows = await this.#repository().listChanges(id, { afterRow, limit: 1000 });
      if (rows.length === 0) return;
      yield* rows.map(deviceChangeView);
      afterRow = rows[rows.length - 1].row_number;
    }
  }

  /** Rows not yet sent are cancelled now; rows already with the carrier finish (DESIGN §5). */
  async cancel(tenantId: string, id: string): Promise<BulkChangeView> {
    const row = await this.find(tenantId, id);
    if (terminalBulkStatuses.includes(row.status as never)) {
      throw conflict('BULK_CHANGE_FINISHED', `The bulk change is already ${row.status}`);
    }
    const now = Date.now();
    await inTransaction(this.#db, async (tx) => {
      const repository = bulkChangesRepository(tx, this.#dialect);
      await repository.update(id, { cancel_requested_at: row.cancel_requested_at ?? now });
      await repository.cancelQueuedRows(id, now);
      await this.#enqueue(tx, advanceJob(id));
    });
    return this.get(tenantId, id);
  }

  /**
   * A new bulk change, with `parentId` this one, holding its failed rows — once: a second retry is a
   * 409. The rows are checked again as at intake (a line may since be busy, archived or gone); those
   * that fail the checks are listed in `rejectedRows`.
   */
  async retry(
    principal: Principal,
    id: string,
  ): Promise<{ created: BulkChangeView; rejected: ErrorDetail[] }> {
    const parent = await this.find(principal.tenantId, id);
    if (!terminalBulkStatuses.includes(parent.status as never)) {
      throw conflict('BULK_CHANGE_RUNNING', 'Retry failed rows once the bulk change has finished');
    }
    if (parent.retried_as_id) {
      throw conflict(
        'ALREADY_RETRIED',
        `The failed rows were already retried in bulk change ${parent.retried_as_id}`,
      );
    }
    const failed = await this.#repository().failedRows(id);
    if (failed.length === 0) throw conflict('NOTHING_TO_RETRY', 'The bulk change has no failed rows');
    const { account, adapter, flow } = await this.#flowFor(
      principal.tenantId,
      parent.carrier_account_id,
      parent.change_type,
    );
    const keyField = flow.newLines?.keyField ?? adapter.keyField;
    const rows: InputRow[] = failed.map((change) => ({
      row: change.row_number,
      fields: { ...JSON.parse(change.request), [keyField]: change[keyField] },
    }));
    const checked = await validateRows({
      db: this.#db,
      dialect: this.#dialect,
      tenantId: principal.tenantId,
      account,
      adapter,
      flow,
      changeType: parent.change_type,
      rows,
      defaults: {},
    });
    if (checked.valid.length === 0) {
      throw validationFailed(
        checked.issues,
        'None of the failed rows can be retried now; nothing was created',
      );
    }
    try {
      const retryId = await this.#insert({
        principal,
        carrierAccountId: account.id,
        changeType: parent.change_type,
        options: JSON.parse(parent.options),
        scheduledFor: null,
        idempotencyKey: null,
        requestHash: null,
        parentId: parent.id,
        rows: checked.valid,
      });
      return { created: await this.get(principal.tenantId, retryId), rejected: checked.issues };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw conflict(
        'LINE_IN_RUNNING_CHANGE',
        'Some of these lines were just put in another bulk change; try again',
      );
    }
  }

  /**
   * The bulk change, its rows and its first job, in one transaction (DESIGN §2.2). A retry also marks
   * its parent, and fails when the parent was retried meanwhile.
   */
  async #insert(options: {
    principal: Principal;
    carrierAccountId: string;
    changeType: string;
    options: Record<string, unknown>;
    scheduledFor: number | null;
    idempotencyKey: string | null;
    requestHash: string | null;
    parentId?: string;
    rows: ValidRow[];
  }): Promise<string> {
    const now = Date.now();
    const id = newId(now);
    await inTransaction(this.#db, async (tx) => {
      const repository = bulkChangesRepository(tx, this.#dialect);
      await repository.insertBulkChange({
        id,
        tenant_id: options.principal.tenantId,
        carrier_account_id: options.carrierAccountId,
        change_type: options.changeType,
        status: options.scheduledFor ? 'scheduled' : 'queued',
        options: JSON.stringify(options.options),
        created_by: options.principal.keyName,
        created_at: now,
        scheduled_for: options.scheduledFor,
        parent_id: options.parentId ?? null,
        idempotency_key: options.idempotencyKey,
        request_hash: options.requestHash,
        total_count: options.rows.length,
        updated_at: now,
      });
      await devicesRepository(tx).insertMany(
        options.rows.filter((row) => row.isNewLine).map((row) => row.device),
        now,
      );
      await repository.insertDeviceChanges(
        options.rows.map((row) => ({
          id: newId(now),
          tenant_id: options.principal.tenantId,
          bulk_change_id: id,
          row_number: row.row,
          device_id: row.device.id,
          ...row.identifiers,
          request: JSON.stringify(row.request),
          status: 'queued',
          step: row.step,
          next_check_at: row.notBefore ?? null,
          attempts: 0,
          updated_at: now,
        })),
      );
      if (options.parentId && !(await repository.markRetried(options.parentId, id))) {
        throw conflict('ALREADY_RETRIED', 'The failed rows were retried meanwhile');
      }
      await this.#enqueue(tx, advanceJob(id, options.scheduledFor ?? undefined));
    });
    return id;
  }

  /**
   * Another request won a race with this one: the same Idempotency-Key (answer with its bulk change),
   * or some of the same lines (report them, as intake would have).
   */
  async #afterRace(
    principal: Principal,
    input: CreateBulkChangeInput,
    requestHash: string,
    rows: ValidRow[],
  ) {
    if (input.idempotencyKey) {
      const winner = await this.#repository().findByIdempotencyKey(principal.tenantId, input.idempotencyKey);
      if (winner) {
        if (winner.request_hash !== requestHash) {
          throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
        }
        return { created: await this.view(winner), rejected: [], replayed: true };
      }
    }
    const busy = await this.#repository().linesInRunningChanges(
      input.carrierAccountId,
      rows.map((row) => row.device.id),
    );
    const added = await devicesRepository(this.#db).findByIdentifiers(
      input.carrierAccountId,
      'iccid',
      rows.filter((row) => row.isNewLine).map((row) => row.device.iccid!),
    );
    throw validationFailed(
      rows.flatMap((row) => {
        if (busy.has(row.device.id)) {
          const message = `The line was just put in bulk change ${busy.get(row.device.id)}; wait for it or cancel it`;
          return [{ row: row.row, code: 'LINE_IN_RUNNING_CHANGE', message }];
        }
        if (row.isNewLine && added.has(row.device.iccid!)) {
          const message = `SIM ${row.device.iccid} was just added by another bulk change; wait for it or cancel it`;
          return [{ row: row.row, field: 'iccid', code: 'SIM_IN_USE', message }];
        }
        return [];
      }),
      'Some lines were put in another bulk change while this one was checked; nothing was created',
    );
  }

  async #flowFor(tenantId: string, carrierAccountId: string, changeType: string) {
    const account = this.#accounts.view(await this.#accounts.get(tenantId, carrierAccountId));
    const adapter = this.#registry.adapter(account.carrier);
    const flow = adapter?.flows[changeType as keyof typeof adapter.flows];
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

/** When every row waits for its effective date, the bulk change is scheduled for the first of them. */
function firstStart(rows: ValidRow[]): number | null {
  let first = Number.POSITIVE_INFINITY;
  for (const row of rows) {
    if (row.notBefore === undefined) return null;
    first = Math.min(first, row.notBefore);
  }
  return Number.isFinite(first) ? first : null;
}

function parseSchedule(value: string | undefined): number | null {
  if (!value) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw validationFailed([
      { field: 'scheduledFor', code: 'INVALID_DATE', message: 'scheduledFor must be an ISO-8601 time' },
    ]);
  }
  return at > Date.now() ? at : null;
}

function hashRequest(input: CreateBulkChangeInput): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        input.carrierAccountId,
        input.changeType,
        input.options,
        input.scheduledFor ?? null,
        input.acceptValidRows,
      ]),
    )
    .update(JSON.stringify(input.rows))
    .digest('hex');
}

function dryRunReport(rows: InputRow[], valid: ValidRow[], issues: ErrorDetail[]): DryRunReport {
  const firstIssue = new Map<number, ErrorDetail>();
  for (const issue of issues)
    if (issue.row !== undefined && !firstIssue.has(issue.row)) firstIssue.set(issue.row, issue);
  const validRows = new Set(valid.map((v) => v.row));
  const report = rows.map((input) => {
    const issue = firstIssue.get(input.row);
    const iccid = typeof input.fields.iccid === 'string' ? input.fields.iccid : null;
    return validRows.has(input.row) && !issue
      ? { row: input.row, iccid, outcome: 'would_succeed' as const }
      : {
          row: input.row,
          iccid,
          outcome: 'would_fail' as const,
          code: issue?.code ?? 'INVALID_ROW',
          message: issue?.message ?? 'The file has problems',
          ...(issue?.field ? { field: issue.field } : {}),
        };
  });
  const wouldSucceed = report.filter((r) => r.outcome === 'would_succeed').length;
  return {
    dryRun: true,
    summary: { total: rows.length, wouldSucceed, wouldFail: rows.length - wouldSucceed },
    fileIssues: issues.filter((issue) => issue.row === undefined),
    rows: report,
  };
}
