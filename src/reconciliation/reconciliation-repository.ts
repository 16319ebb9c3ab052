import type { DriftKind, ReconciliationStatus, ReconciliationTrigger } from '../core/drifts.ts';
import type { Executor } from '../db/database.ts';
import type { ReconciliationDriftRow, ReconciliationRow } from '../db/schema.ts';

/** What a run counted: lines at the carrier, in the inventory, billing services read (null: no billing), drifts. */
export interface ReconciliationCounts {
  carrierLines: number;
  inventoryLines: number;
  billingServices: number | null;
  drifts: number;
}

export interface Reconciliation {
  id: string;
  tenantId: string;
  carrierAccountId: string;
  status: ReconciliationStatus;
  trigger: ReconciliationTrigger;
  requestedBy: string;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  counts: ReconciliationCounts | null;
  error: string | null;
}

/** One drift: a line's field as the carrier, our inventory and billing have it (null: that side has none). */
export interface Drift {
  id: string;
  kind: DriftKind;
  field: string;
  deviceId: string | null;
  iccid: string | null;
  msisdn: string | null;
  carrierValue: string | null;
  ourValue: string | null;
  billingValue: string | null;
  /** The carrier's own word for the line's status (ThingSpace `suspend`), for the fix. */
  carrierStatus: string | null;
  billingCustomerId: string | null;
}
export type NewDrift = Omit<Drift, 'id'>;

const toReconciliation = (row: ReconciliationRow): Reconciliation => ({
  id: row.id,
  tenantId: row.tenant_id,
  carrierAccountId: row.carrier_account_id,
  status: row.status,
  trigger: row.trigger,
  requestedBy: row.requested_by,
  createdAt: Number(row.created_at),
  startedAt: row.started_at === null ? null : Number(row.started_at),
  completedAt: row.completed_at === null ? null : Number(row.completed_at),
  counts: row.counts ? JSON.parse(row.counts) : null,
  error: row.error,
});

const toDrift = (row: ReconciliationDriftRow): Drift => ({
  id: String(row.id),
  kind: row.kind,
  field: row.field,
  deviceId: row.device_id,
  iccid: row.iccid,
  msisdn: row.msisdn,
  carrierValue: row.carrier_value,
  ourValue: row.our_value,
  billingValue: row.billing_value,
  carrierStatus: row.carrier_status,
  billingCustomerId: row.billing_customer_id,
});

/** Drifts written or looked up per statement: well under both dialects' bound-parameter limits. */
const STATEMENT_SLICE = 200;

export function reconciliationRepository(db: Executor) {
  return {
    async create(run: {
      id: string;
      tenantId: string;
      carrierAccountId: string;
      trigger: ReconciliationTrigger;
      requestedBy: string;
      at: number;
    }): Promise<void> {
      await db
        .insertInto('reconciliations')
        .values({
          id: run.id,
          tenant_id: run.tenantId,
          carrier_account_id: run.carrierAccountId,
          status: 'queued',
          trigger: run.trigger,
          requested_by: run.requestedBy,
          created_at: run.at,
          started_at: null,
          completed_at: null,
          counts: null,
          error: null,
        })
        .execute();
    },

    async find(id: string): Promise<Reconciliation | undefined> {
      const row = await db.selectFrom('reconciliations').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toReconciliation(row) : undefined;
    },

    async findInTenant(tenantId: string, id: string): Promise<Reconciliation | undefined> {
      const row = await db
        .selectFrom('reconciliations')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toReconciliation(row) : undefined;
    },

    /** Newest first; the cursor is the id of the last one seen (ids are time-ordered). */
    async list(
      tenantId: string,
      filter: { carrierAccountId?: string; cursor?: string; limit: number },
    ): Promise<Reconciliation[]> {
      let query = db.selectFrom('reconciliations').selectAll().where('tenant_id', '=', tenantId);
      if (filter.carrierAccountId) query = query.where('carrier_account_id', '=', filter.carrierAccountId);
      if (filter.cursor) query = query.where('id', '<', filter.cursor);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toReconciliation);
    },

    /** Whether a run of the account waits to start (it will read the carrier as it is then). */
    async hasQueued(carrierAccountId: string): Promise<boolean> {
      const row = await db
        .selectFrom('reconciliations')
        .select('id')
        .where('carrier_account_id', '=', carrierAccountId)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return row !== undefined;
    },

    async start(id: string, at: number): Promise<void> {
      await db
        .updateTable('reconciliations')
        .set({ status: 'running', started_at: at })
        .where('id', '=', id)
        .execute();
    },

    /**
     * Replaces the run's drifts and ends it, in the caller's transaction: a run retried after a crash
     * leaves one set of drifts, not two.
     */
    async complete(
      id: string,
      tenantId: string,
      drifts: NewDrift[],
      counts: ReconciliationCounts,
      at: number,
    ): Promise<void> {
      await db.deleteFrom('reconciliation_drifts').where('reconciliation_id', '=', id).execute();
      for (let start = 0; start < drifts.length; start += STATEMENT_SLICE) {
        await db
          .insertInto('reconciliation_drifts')
          .values(
            drifts.slice(start, start + STATEMENT_SLICE).map((drift) => ({
              reconciliation_id: id,
              tenant_id: tenantId,
              kind: drift.kind,
              field: drift.field,
              device_id: drift.deviceId,
              iccid: drift.iccid,
              msisdn: drift.msisdn,
              carrier_value: drift.carrierValue,
              our_value: drift.ourValue,
              billing_value: drift.billingValue,
              carrier_status: drift.carrierStatus,
              billing_customer_id: drift.billingCustomerId,
            })),
          )
          .execute();
      }
      await db
        .updateTable('reconciliations')
        .set({ status: 'completed', completed_at: at, counts: JSON.stringify(counts), error: null })
        .where('id', '=', id)
        .execute();
    },

    async fail(id: string, error: string, at: number): Promise<void> {
      await db
        .updateTable('reconciliations')
        .set({ status: 'failed', completed_at: at, error })
        .where('id', '=', id)
        .execute();
    },

    /** The run's drifts in the order they were found, a page after `afterId`. */
    async drifts(id: string, filter: { afterId?: string; limit?: number } = {}): Promise<Drift[]> {
      let query = db.selectFrom('reconciliation_drifts').selectAll().where('reconciliation_id', '=', id);
      if (filter.afterId) query = query.where('id', '>', Number(filter.afterId));
      query = query.orderBy('id');
      if (filter.limit) query = query.limit(filter.limit);
      return (await query.execute()).map(toDrift);
    },

    /** The run's drifts of a selection (any size: looked up a slice at a time), in the order found. */
    async selectedDrifts(id: string, ids: readonly string[]): Promise<Drift[]> {
      const found: Drift[] = [];
      for (let start = 0; start < ids.length; start += STATEMENT_SLICE) {
        const rows = await db
          .selectFrom('reconciliation_drifts')
          .selectAll()
          .where('reconciliation_id', '=', id)
          .where('id', 'in', ids.slice(start, start + STATEMENT_SLICE).map(Number))
          .execute();
        found.push(...rows.map(toDrift));
      }
      return found.sort((a, b) => Number(a.id) - Number(b.id));
    },

    async schedule(carrierAccountId: string) {
      const row = await db
        .selectFrom('reconciliation_schedules')
        .selectAll()
        .where('carrier_account_id', '=', carrierAccountId)
        .executeTakeFirst();
      return row ? { everyMinutes: row.every_minutes, nextRunAt: Number(row.next_run_at) } : null;
    },

    async setSchedule(
      schedule: { carrierAccountId: string; tenantId: string; everyMinutes: number | null },
      at: number,
    ): Promise<void> {
      await db
        .deleteFrom('reconciliation_schedules')
        .where('carrier_account_id', '=', schedule.carrierAccountId)
        .execute();
      if (schedule.everyMinutes === null) return;
      await db
        .insertInto('reconciliation_schedules')
        .values({
          carrier_account_id: schedule.carrierAccountId,
          tenant_id: schedule.tenantId,
          every_minutes: schedule.everyMinutes,
          next_run_at: at + schedule.everyMinutes * 60_000,
        })
        .execute();
    },

    /**
     * Schedules whose run is due, each moved on to its next time; a schedule another worker moved on
     * first is not returned, so each due run is taken once.
     */
    async takeDue(at: number): Promise<Array<{ carrierAccountId: string; tenantId: string }>> {
      const due = await db
        .selectFrom('reconciliation_schedules')
        .selectAll()
        .where('next_run_at', '<=', at)
        .execute();
      const taken: Array<{ carrierAccountId: string; tenantId: string }> = [];
      for (const row of due) {
        const moved = await db
          .updateTable('reconciliation_schedules')
          .set({ next_run_at: at + row.every_minutes * 60_000 })
          .where('carrier_account_id', '=', row.carrier_account_id)
          .where('next_run_at', '=', row.next_run_at)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 1)
          taken.push({ carrierAccountId: row.carrier_account_id, tenantId: row.tenant_id });
      }
      return taken;
    },
  };
}
