import { sql } from 'kysely';
import type { ChangeType } from '../core/change-types.ts';
import type { Capabilities, Executor } from '../db/database.ts';
import type { DeviceTable } from '../db/schema.ts';
import type { LineChange } from './devices-repository.ts';

/** The API's name of each inventory column a bulk change can change (API §2 Devices). */
const fieldNames: Partial<Record<keyof DeviceTable, string>> = {
  status: 'status',
  carrier_status: 'carrierStatus',
  carrier_rate_plan: 'carrierRatePlan',
  communication_plan: 'communicationPlan',
  iccid: 'iccid',
  imei: 'imei',
  msisdn: 'msisdn',
  eid: 'eid',
  ip_address: 'ipAddress',
  username: 'username',
  cost_center1: 'costCenter1',
  cost_center2: 'costCenter2',
  cost_center3: 'costCenter3',
  billing_customer_id: 'billingCustomerId',
  billing_service_id: 'billingServiceId',
  customer_rate_plan_id: 'customerRatePlanId',
  customer_pool_id: 'customerPoolId',
  optimization_group: 'optimizationGroup',
  archived: 'archived',
  site_id: 'siteId',
};

/** A value as the history keeps it: text, a flag as true / false, nothing as null. */
const asText = (column: string, value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (column === 'archived') return String(value === 1 || value === true);
  return String(value);
};

/** SQLite allows 32k bound parameters; lookups go in slices well below that. */
const LOOKUP_SLICE = 500;

/** One field a row changed on its line, as the history keeps it (text). */
export interface RowFieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

/** Who made a bulk change's rows change their lines, and on which account. */
export interface HistoryOrigin {
  tenantId: string;
  bulkChangeId: string;
  carrierAccountId: string;
  /** As the audit log names actors (`key:<id>`). */
  actor: string;
  /** The actor's readable name (the API key's name). */
  actorName: string | null;
}

/** One field of a line that a row of a bulk change changed. */
export interface LineHistoryEntry {
  id: number;
  deviceId: string;
  carrierAccountId: string;
  field: string;
  before: string | null;
  after: string | null;
  bulkChangeId: string;
  changeType: ChangeType | null;
  changeId: string;
  row: number | null;
  actor: string;
  actorName: string | null;
  at: number;
}

/** The history of lines: what each bulk change's rows changed on them, field by field (ADR 0046). */
export function deviceHistoryRepository(db: Executor) {
  return {
    /**
     * Records what a chunk's rows changed on their lines, in the caller's transaction (the one that
     * commits the rows' outcomes), in one statement whatever the chunk's size: the entries go in as
     * one JSON parameter, read back as a table.
     */
    async record(
      capabilities: Capabilities,
      origin: HistoryOrigin,
      changes: ReadonlyArray<LineChange & { rowId: string }>,
      at: number,
    ): Promise<void> {
      const entries = changes.flatMap((change) =>
        Object.keys(change.after).flatMap((column) => {
          const field = fieldNames[column as keyof DeviceTable];
          return field
            ? [
                {
                  device_id: change.deviceId,
                  field,
                  before: asText(column, change.before[column]),
                  after: asText(column, change.after[column]),
                  device_change_id: change.rowId,
                },
              ]
            : [];
        }),
      );
      if (entries.length === 0) return;
      const records = capabilities.jsonRecords(JSON.stringify(entries), 'v', {
        device_id: 'text',
        field: 'text',
        before: 'text',
        after: 'text',
        device_change_id: 'text',
      });
      await sql`insert into device_history
        (tenant_id, device_id, carrier_account_id, field, before, after, bulk_change_id, device_change_id, actor, actor_name, at)
        select ${origin.tenantId}, v.device_id, ${origin.carrierAccountId}, v.field, v.before, v.after,
          ${origin.bulkChangeId}, v.device_change_id, ${origin.actor}, ${origin.actorName}, cast(${at} as bigint)
        from ${records}`.execute(db);
    },

    /**
     * What each of these rows changed on its line, field by field in the order it was written (a row
     * of several steps may change a field more than once): what an undo reverses (ADR 0048).
     */
    async forRows(rowIds: readonly string[]): Promise<Map<string, RowFieldChange[]>> {
      const found = new Map<string, RowFieldChange[]>();
      for (let start = 0; start < rowIds.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('device_history')
          .select(['device_change_id', 'field', 'before', 'after'])
          .where('device_change_id', 'in', rowIds.slice(start, start + LOOKUP_SLICE))
          .orderBy('id')
          .execute();
        for (const row of rows) {
          const changes = found.get(row.device_change_id) ?? [];
          changes.push({ field: row.field, before: row.before, after: row.after });
          found.set(row.device_change_id, changes);
        }
      }
      return found;
    },

    /** A line's history, newest first, after the entry `before` (a cursor) when given. */
    async list(
      tenantId: string,
      deviceId: string,
      page: { before?: number; limit: number },
    ): Promise<LineHistoryEntry[]> {
      let query = db
        .selectFrom('device_history')
        .leftJoin('bulk_changes', 'bulk_changes.id', 'device_history.bulk_change_id')
        .leftJoin('device_changes', 'device_changes.id', 'device_history.device_change_id')
        .select([
          'device_history.id as id',
          'device_history.device_id as deviceId',
          'device_history.carrier_account_id as carrierAccountId',
          'device_history.field as field',
          'device_history.before as before',
          'device_history.after as after',
          'device_history.bulk_change_id as bulkChangeId',
          'bulk_changes.change_type as changeType',
          'device_history.device_change_id as changeId',
          'device_changes.row_number as row',
          'device_history.actor as actor',
          'device_history.actor_name as actorName',
          'device_history.at as at',
        ])
        .where('device_history.tenant_id', '=', tenantId)
        .where('device_history.device_id', '=', deviceId);
      if (page.before !== undefined) query = query.where('device_history.id', '<', page.before);
      const rows = await query.orderBy('device_history.id', 'desc').limit(page.limit).execute();
      return rows.map((row) => ({ ...row, id: Number(row.id), at: Number(row.at) }));
    },
  };
}
