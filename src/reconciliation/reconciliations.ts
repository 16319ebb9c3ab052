import { stringify } from 'csv-stringify';
import { z } from 'zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { type Actor, actorOf, systemActor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import { bulkChangesRepository } from '../bulk-changes/bulk-changes-repository.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import { inBatches } from '../bulk-changes/csv-input.ts';
import type { Enqueue } from '../bulk-changes/jobs.ts';
import { escapeFormula } from '../bulk-changes/table-files.ts';
import { bulkChangeViewSchema, dryRunReportSchema } from '../bulk-changes/views.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { changeTypes } from '../core/change-types.ts';
import {
  type DriftKind,
  driftKinds,
  type ReconciliationTrigger,
  reconciliationStatuses,
  reconciliationTriggers,
} from '../core/drifts.ts';
import { AppError, errorDetailSchema, notFound, validationFailed } from '../core/errors.ts';
import type { Principal } from '../core/roles.ts';
import { type Capabilities, type Db, inTransaction } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { isoTime } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { toIso } from '../shared/time.ts';
import { type FixChange, planFix } from './fix-plan.ts';
import { reconciliationRunTask } from './reconciler.ts';
import { type Drift, type Reconciliation, reconciliationRepository } from './reconciliation-repository.ts';

/** A reconciliation run as the API shows it. */
export const reconciliationViewSchema = z.object({
  id: z.string(),
  carrierAccountId: z.string(),
  status: z.enum(reconciliationStatuses),
  trigger: z.enum(reconciliationTriggers),
  requestedBy: z.string(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  completedAt: isoTime.nullable(),
  counts: z
    .object({
      carrierLines: z.number().int(),
      inventoryLines: z.number().int(),
      billingServices: z.number().int().nullable(),
      drifts: z.number().int(),
    })
    .nullable()
    .describe('Once completed: the lines on each side and the drifts found'),
  error: z.string().nullable(),
});
export type ReconciliationView = z.infer<typeof reconciliationViewSchema>;

export const reconciliationView = (run: Reconciliation): ReconciliationView => ({
  id: run.id,
  carrierAccountId: run.carrierAccountId,
  status: run.status,
  trigger: run.trigger,
  requestedBy: run.requestedBy,
  createdAt: toIso(run.createdAt)!,
  startedAt: toIso(run.startedAt),
  completedAt: toIso(run.completedAt),
  counts: run.counts,
  error: run.error,
});

/** A drift as the API, the portal and the CSV show it: the line, the field and the three sides. */
export const driftViewSchema = z.object({
  id: z.string(),
  kind: z.enum(driftKinds),
  field: z.string(),
  deviceId: z.string().nullable(),
  iccid: z.string().nullable(),
  msisdn: z.string().nullable(),
  carrier: z.string().nullable().describe("The carrier's value; null: the carrier has none"),
  ours: z.string().nullable().describe("The inventory's value"),
  billing: z.string().nullable().describe("Billing's value"),
});
export type DriftView = z.infer<typeof driftViewSchema>;

export const driftView = (drift: Drift): DriftView => ({
  id: drift.id,
  kind: drift.kind,
  field: drift.field,
  deviceId: drift.deviceId,
  iccid: drift.iccid,
  msisdn: drift.msisdn,
  carrier: drift.carrierValue,
  ours: drift.ourValue,
  billing: drift.billingValue,
});

export const driftCsvHeader = ['id', 'kind', 'iccid', 'msisdn', 'field', 'carrier', 'ours', 'billing'];

const fixChange = { changeType: z.enum(changeTypes), rows: z.number().int() };

/** One fix bulk change: created (or, with `dryRun`, its preview), or refused with the API's error. */
const fixOutcomeSchema = z.union([
  z.object({ ...fixChange, created: bulkChangeViewSchema, rejectedRows: z.array(errorDetailSchema) }),
  z.object({ ...fixChange, preview: dryRunReportSchema }),
  z.object({
    ...fixChange,
    refused: z.object({ code: z.string(), message: z.string(), details: z.array(errorDetailSchema) }),
  }),
]);
export type FixOutcome = z.infer<typeof fixOutcomeSchema>;

/** `POST /reconciliations/{id}/propose-fix`: the fix bulk changes, and the drifts no change can fix. */
export const proposedFixSchema = z.object({
  reconciliationId: z.string(),
  dryRun: z.boolean(),
  changes: z.array(fixOutcomeSchema),
  notFixable: z.array(z.object({ driftId: z.string(), reason: z.string() })),
});
export type ProposedFix = z.infer<typeof proposedFixSchema>;

/** An account's reconciliation schedule: null `everyMinutes` when it has none. */
export const reconciliationScheduleSchema = z.object({
  carrierAccountId: z.string(),
  everyMinutes: z.number().int().nullable(),
  nextRunAt: isoTime.nullable(),
});

export interface ReconciliationsDeps {
  db: Db;
  capabilities: Capabilities;
  accounts: CarrierAccounts;
  registry: CarrierRegistry;
  bulkChanges: BulkChanges;
  enqueue: Enqueue;
}

/** Drifts per page of the API and the CSV stream. */
const DRIFT_PAGE = 1_000;

/**
 * Three-way reconciliations of carrier accounts (ADR 0049): asked for (by a person or the account's
 * schedule) and queued, listed, read with their drifts, and turned into fix bulk changes.
 */
export class Reconciliations {
  readonly #deps: ReconciliationsDeps;

  constructor(deps: ReconciliationsDeps) {
    this.#deps = deps;
  }

  /** Queues a run of the account's reconciliation, with an audit entry saying who asked, in one transaction. */
  async request(
    account: { id: string; tenantId: string },
    actor: Actor,
    trigger: ReconciliationTrigger = 'manual',
  ): Promise<ReconciliationView> {
    const id = newId();
    await inTransaction(this.#deps.db, async (tx) => {
      await reconciliationRepository(tx).create({
        id,
        tenantId: account.tenantId,
        carrierAccountId: account.id,
        trigger,
        requestedBy: actor.id,
        at: Date.now(),
      });
      await this.#deps.enqueue(tx, reconciliationRunTask.job({ reconciliationId: id }));
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId: account.tenantId,
          actor,
          action: 'reconciliation.request',
          subject: { carrierAccountId: account.id },
          detail: { reconciliationId: id, trigger },
        }),
      ]);
    });
    return this.get(account.tenantId, id);
  }

  /** Queues a run for every account whose schedule is due (the periodic task). */
  async runDue(): Promise<number> {
    const due = await reconciliationRepository(this.#deps.db).takeDue(Date.now());
    for (const { carrierAccountId, tenantId } of due)
      await this.request({ id: carrierAccountId, tenantId }, systemActor('schedule'), 'schedule');
    return due.length;
  }

  /**
   * A callback's result that no row of ours carries, looked at again once rows have had time to record
   * their requests: still no row's, it is a change made outside bulkchange, and the account is
   * reconciled (unless a run already waits to start: it will see the change).
   */
  async afterCallback(result: { carrierAccountId: string; requestId: string; iccid: string }): Promise<void> {
    const { db, accounts } = this.#deps;
    if (
      await bulkChangesRepository(db).carriesRequest(result.carrierAccountId, result.requestId, result.iccid)
    )
      return;
    if (await reconciliationRepository(db).hasQueued(result.carrierAccountId)) return;
    const loaded = await accounts.load(result.carrierAccountId);
    if (!loaded) return;
    await this.request(loaded.account, systemActor(loaded.account.carrier), 'callback');
  }

  async schedule(
    tenantId: string,
    carrierAccountId: string,
  ): Promise<z.infer<typeof reconciliationScheduleSchema>> {
    const account = await this.#deps.accounts.get(tenantId, carrierAccountId);
    const schedule = await reconciliationRepository(this.#deps.db).schedule(account.id);
    return {
      carrierAccountId: account.id,
      everyMinutes: schedule?.everyMinutes ?? null,
      nextRunAt: schedule ? toIso(schedule.nextRunAt) : null,
    };
  }

  /** Sets (or, with null, stops) the account's schedule; the first run is one period from now. */
  async setSchedule(principal: Principal, carrierAccountId: string, everyMinutes: number | null) {
    const account = await this.#deps.accounts.get(principal.tenantId, carrierAccountId);
    await inTransaction(this.#deps.db, async (tx) => {
      await reconciliationRepository(tx).setSchedule(
        { carrierAccountId: account.id, tenantId: account.tenantId, everyMinutes },
        Date.now(),
      );
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId: account.tenantId,
          actor: actorOf(principal),
          action: 'reconciliation.schedule',
          subject: { carrierAccountId: account.id },
          after: { everyMinutes },
        }),
      ]);
    });
    return this.schedule(principal.tenantId, account.id);
  }

  async find(tenantId: string, id: string): Promise<Reconciliation> {
    const run = await reconciliationRepository(this.#deps.db).findInTenant(tenantId, id);
    if (!run) throw notFound('Reconciliation');
    return run;
  }

  async get(tenantId: string, id: string): Promise<ReconciliationView> {
    return reconciliationView(await this.find(tenantId, id));
  }

  async list(tenantId: string, filter: { carrierAccountId?: string; cursor?: string; limit: number }) {
    const runs = await reconciliationRepository(this.#deps.db).list(tenantId, filter);
    return {
      items: runs.map(reconciliationView),
      nextCursor: runs.length === filter.limit ? runs[runs.length - 1].id : null,
    };
  }

  async drifts(
    tenantId: string,
    id: string,
    page: { cursor?: string; limit: number; kind?: DriftKind },
  ): Promise<{ items: DriftView[]; nextCursor: string | null }> {
    const run = await this.find(tenantId, id);
    const items: Drift[] = [];
    let cursor = page.cursor;
    // A kind narrows what a page holds, read in pages of the run's drifts until the page is full.
    while (items.length < page.limit) {
      const found = await reconciliationRepository(this.#deps.db).drifts(run.id, {
        afterId: cursor,
        limit: page.limit,
      });
      items.push(...found.filter((drift) => !page.kind || drift.kind === page.kind));
      if (found.length < page.limit) return { items: items.map(driftView), nextCursor: null };
      cursor = found[found.length - 1].id;
    }
    const shown = items.slice(0, page.limit);
    return { items: shown.map(driftView), nextCursor: shown[shown.length - 1].id };
  }

  /** The run's drifts as CSV (formula-escaped), streamed page by page with backpressure. */
  async driftsCsv(tenantId: string, id: string) {
    const run = await this.find(tenantId, id);
    const csv = stringify({ header: true, columns: driftCsvHeader, cast: { string: escapeFormula } });
    const repository = reconciliationRepository(this.#deps.db);
    (async () => {
      try {
        let afterId: string | undefined;
        for (;;) {
          const page = await repository.drifts(run.id, { afterId, limit: DRIFT_PAGE });
          for (const drift of page) {
            const view = driftView(drift);
            const line = [
              view.id,
              view.kind,
              view.iccid,
              view.msisdn,
              view.field,
              view.carrier,
              view.ours,
              view.billing,
            ];
            if (!csv.write(line)) await new Promise((resolve) => csv.once('drain', resolve));
          }
          if (page.length < DRIFT_PAGE) break;
          afterId = page[page.length - 1].id;
        }
        csv.end();
      } catch (error) {
        csv.destroy(error as Error);
      }
    })();
    return csv;
  }

  /**
   * Turns selected drifts of a finished run into ordinary bulk changes (`planFix`), created through
   * the same intake as any other, so their rows are checked, previewed (`dryRun`), run, audited and
   * (with approvals) approved alike. Before they are created the inventory learns the carrier's state
   * of the lines they fix, so each row starts from where the line really is.
   */
  async proposeFix(
    principal: Principal,
    id: string,
    request: { driftIds: string[]; dryRun: boolean },
  ): Promise<ProposedFix> {
    const run = await this.find(principal.tenantId, id);
    if (run.status !== 'completed') {
      throw new AppError(
        'RECONCILIATION_NOT_FINISHED',
        `The reconciliation is ${run.status}; wait for it to complete`,
      );
    }
    const repository = reconciliationRepository(this.#deps.db);
    const wanted = [...new Set(request.driftIds)];
    const drifts = await repository.selectedDrifts(run.id, wanted);
    const found = new Set(drifts.map((drift) => drift.id));
    const unknown = wanted.filter((driftId) => !found.has(driftId));
    if (unknown.length > 0) {
      throw validationFailed(
        unknown.map((driftId) => ({
          field: 'driftIds',
          code: 'UNKNOWN_DRIFT',
          message: `${driftId} is not a drift of reconciliation ${run.id}`,
        })),
      );
    }
    const loaded = await this.#deps.accounts.load(run.carrierAccountId);
    const adapter = loaded && this.#deps.registry.adapter(loaded.account.carrier);
    if (!adapter) throw notFound('Carrier account');
    const plan = planFix(drifts, adapter);
    if (!request.dryRun && plan.refresh.length > 0) {
      await devicesRepository(this.#deps.db).applyPatches(this.#deps.capabilities, plan.refresh, Date.now());
    }
    const changes: FixOutcome[] = [];
    for (const change of plan.changes)
      changes.push(await this.#createFix(principal, run, change, request.dryRun));
    await auditRepository(this.#deps.db).append([
      auditEntryForChange({
        tenantId: run.tenantId,
        actor: actorOf(principal),
        action: 'reconciliation.propose_fix',
        subject: { carrierAccountId: run.carrierAccountId },
        outcome: request.dryRun ? 'previewed' : 'success',
        detail: {
          reconciliationId: run.id,
          driftIds: wanted,
          bulkChangeIds: changes.flatMap((change) => ('created' in change ? [change.created.id] : [])),
          notFixable: plan.notFixable.length,
        },
      }),
    ]);
    return { reconciliationId: run.id, dryRun: request.dryRun, changes, notFixable: plan.notFixable };
  }

  async #createFix(
    principal: Principal,
    run: Reconciliation,
    change: FixChange,
    dryRun: boolean,
  ): Promise<FixOutcome> {
    const base = { changeType: change.changeType, rows: change.rows.length };
    try {
      const outcome = await this.#deps.bulkChanges.create(principal, {
        carrierAccountId: run.carrierAccountId,
        changeType: change.changeType,
        options: {},
        dryRun,
        // A row the intake refuses (a line now in another running change) leaves the others to go.
        acceptValidRows: true,
        rows: inBatches(change.rows.map((fields, index) => ({ row: index + 1, fields }))),
        inputIssues: [],
      });
      if ('dryRun' in outcome) return { ...base, preview: outcome };
      return { ...base, created: outcome.created, rejectedRows: outcome.rejected };
    } catch (error) {
      // Intake refused the whole change (every row invalid): said for this change, the others still go.
      if (!(error instanceof AppError) || error.statusCode >= 500) throw error;
      return { ...base, refused: { code: error.code, message: error.message, details: error.details } };
    }
  }
}
