import { sql } from 'kysely';
import type { DevicePatch, DeviceRecord } from '../core/flow.ts';
import type { NormalisedStatus } from '../core/statuses.ts';
import type { Capabilities, Executor, JsonColumnType } from '../db/database.ts';
import type { DeviceRow, DeviceTable, NewDeviceRow } from '../db/schema.ts';

/** The columns an inventory sync refreshes, and which of them are identifiers (kept when not reported). */
const syncedColumns = [
  'status',
  'carrier_status',
  'carrier_rate_plan',
  'communication_plan',
  'msisdn',
  'imei',
  'eid',
] as const;
const identifierColumns = new Set<string>(['msisdn', 'imei', 'eid']);

/** What a change or a sync did to a line the inventory already knew, column by column. */
export interface LineChange {
  deviceId: string;
  iccid: string | null;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** A line of the inventory, as every room above the store sees it. */
export interface Device extends DeviceRecord {
  tenantId: string;
  ipAddress: string | null;
  username: string | null;
  costCenter1: string | null;
  costCenter2: string | null;
  costCenter3: string | null;
  optimizationGroup: string | null;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A line to add: what is not given is unknown (null). */
export type NewDevice = Pick<Device, 'id' | 'tenantId' | 'carrierAccountId' | 'status'> &
  Partial<Omit<Device, 'id' | 'tenantId' | 'carrierAccountId' | 'status' | 'createdAt' | 'updatedAt'>>;

export const toDevice = (row: DeviceRow): Device => ({
  id: row.id,
  tenantId: row.tenant_id,
  carrierAccountId: row.carrier_account_id,
  iccid: row.iccid,
  imei: row.imei,
  msisdn: row.msisdn,
  eid: row.eid,
  status: row.status,
  carrierStatus: row.carrier_status,
  carrierRatePlan: row.carrier_rate_plan,
  communicationPlan: row.communication_plan,
  customerRatePlanId: row.customer_rate_plan_id,
  customerPoolId: row.customer_pool_id,
  billingCustomerId: row.billing_customer_id,
  billingServiceId: row.billing_service_id,
  ipAddress: row.ip_address,
  username: row.username,
  costCenter1: row.cost_center1,
  costCenter2: row.cost_center2,
  costCenter3: row.cost_center3,
  optimizationGroup: row.optimization_group,
  lastUsageAt: row.last_usage_at,
  archived: row.archived === 1,
  siteId: row.site_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const deviceRow = (device: NewDevice, at: number): NewDeviceRow => ({
  id: device.id,
  tenant_id: device.tenantId,
  carrier_account_id: device.carrierAccountId,
  iccid: device.iccid ?? null,
  imei: device.imei ?? null,
  msisdn: device.msisdn ?? null,
  eid: device.eid ?? null,
  status: device.status,
  carrier_status: device.carrierStatus ?? null,
  carrier_rate_plan: device.carrierRatePlan ?? null,
  communication_plan: device.communicationPlan ?? null,
  customer_rate_plan_id: device.customerRatePlanId ?? null,
  customer_pool_id: device.customerPoolId ?? null,
  billing_customer_id: device.billingCustomerId ?? null,
  billing_service_id: device.billingServiceId ?? null,
  ip_address: device.ipAddress ?? null,
  username: device.username ?? null,
  cost_center1: device.costCenter1 ?? null,
  cost_center2: device.costCenter2 ?? null,
  cost_center3: device.costCenter3 ?? null,
  optimization_group: device.optimizationGroup ?? null,
  last_usage_at: device.lastUsageAt ?? null,
  archived: device.archived ? 1 : 0,
  site_id: device.siteId ?? null,
  created_at: at,
  updated_at: at,
});

/** The SQL type of each column a patch can set, to read it out of a JSON record. */
const columnTypes: Partial<Record<keyof DeviceTable, JsonColumnType>> = {
  status: 'text',
  carrier_status: 'text',
  carrier_rate_plan: 'text',
  communication_plan: 'text',
  msisdn: 'text',
  iccid: 'text',
  imei: 'text',
  ip_address: 'text',
  username: 'text',
  cost_center1: 'text',
  cost_center2: 'text',
  cost_center3: 'text',
  billing_customer_id: 'text',
  customer_rate_plan_id: 'text',
  customer_pool_id: 'text',
  archived: 'integer',
  billing_service_id: 'text',
  site_id: 'text',
  optimization_group: 'text',
};

const patchColumns = (patch: DevicePatch) => {
  const set: Partial<DeviceTable> = {};
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.carrierStatus !== undefined) set.carrier_status = patch.carrierStatus;
  if (patch.carrierRatePlan !== undefined) set.carrier_rate_plan = patch.carrierRatePlan;
  if (patch.communicationPlan !== undefined) set.communication_plan = patch.communicationPlan;
  if (patch.msisdn !== undefined) set.msisdn = patch.msisdn;
  if (patch.iccid !== undefined) set.iccid = patch.iccid;
  if (patch.imei !== undefined) set.imei = patch.imei;
  if (patch.ipAddress !== undefined) set.ip_address = patch.ipAddress;
  if (patch.username !== undefined) set.username = patch.username;
  if (patch.costCenter1 !== undefined) set.cost_center1 = patch.costCenter1;
  if (patch.costCenter2 !== undefined) set.cost_center2 = patch.costCenter2;
  if (patch.costCenter3 !== undefined) set.cost_center3 = patch.costCenter3;
  if (patch.billingCustomerId !== undefined) set.billing_customer_id = patch.billingCustomerId;
  if (patch.customerRatePlanId !== undefined) set.customer_rate_plan_id = patch.customerRatePlanId;
  if (patch.customerPoolId !== undefined) set.customer_pool_id = patch.customerPoolId;
  if (patch.archived !== undefined) set.archived = patch.archived ? 1 : 0;
  if (patch.billingServiceId !== undefined) set.billing_service_id = patch.billingServiceId;
  if (patch.siteId !== undefined) set.site_id = patch.siteId;
  if (patch.optimizationGroup !== undefined) set.optimization_group = patch.optimizationGroup;
  return set;
};

export interface DeviceFilter {
  carrierAccountId?: string;
  iccid?: string;
  msisdn?: string;
  status?: NormalisedStatus;
  carrierRatePlan?: string;
  billingCustomerId?: string;
  cursor?: string;
  limit: number;
}

/** A bulk change that touched a line, with the line's row in it. */
export interface DeviceHistoryEntry {
  bulkChangeId: string;
  changeType: string;
  bulkStatus: string;
  createdAt: number;
  createdBy: string;
  changeId: string;
  row: number;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  updatedAt: number;
}

/** SQLite allows 32k bound parameters; lookups go in slices well below that. */
const LOOKUP_SLICE = 500;
const INSERT_SLICE = 200;

/** Identifier columns searched, each through its own index; IMEI (no index) only when it looks like one. */
const searchColumns = (identifier: string) =>
  (['iccid', 'msisdn', 'eid', 'imei'] as const).filter(
    (column) => column !== 'imei' || /^\d{15}$/.test(identifier),
  );

export function devicesRepository(db: Executor) {
  /** The columns each patch would change, before and after, for lines it really changes. */
  const lineChanges = async (
    sets: ReadonlyArray<{ deviceId: string; set: Partial<DeviceTable> }>,
  ): Promise<LineChange[]> => {
    const columns = [...new Set(sets.flatMap(({ set }) => Object.keys(set)))] as Array<keyof DeviceTable>;
    if (columns.length === 0) return [];
    const changes: LineChange[] = [];
    for (let start = 0; start < sets.length; start += LOOKUP_SLICE) {
      const slice = sets.slice(start, start + LOOKUP_SLICE);
      const rows = await db
        .selectFrom('devices')
        .select(['id', 'iccid', ...columns])
        .where(
          'id',
          'in',
          slice.map(({ deviceId }) => deviceId),
        )
        .execute();
      const current = new Map(rows.map((row) => [row.id, row as Record<string, unknown>]));
      for (const { deviceId, set } of slice) {
        const old = current.get(deviceId);
        if (!old) continue;
        const changed = (Object.keys(set) as Array<keyof DeviceTable>).filter(
          (column) => old[column] !== set[column],
        );
        if (changed.length === 0) continue;
        changes.push({
          deviceId,
          iccid: (old.iccid as string | null) ?? null,
          before: Object.fromEntries(changed.map((column) => [column, old[column]])),
          after: Object.fromEntries(changed.map((column) => [column, set[column]])),
        });
      }
    }
    return changes;
  };

  /**
   * The account's lines keyed by the given identifier column, for intake checks: every line with
   * each value (an MSISDN or EID may name more than one).
   */
  const findAllByIdentifiers = async (
    carrierAccountId: string,
    column: 'iccid' | 'msisdn' | 'eid',
    values: string[],
  ): Promise<Map<string, Device[]>> => {
    const found = new Map<string, Device[]>();
    for (let start = 0; start < values.length; start += LOOKUP_SLICE) {
      const rows = await db
        .selectFrom('devices')
        .selectAll()
        .where('carrier_account_id', '=', carrierAccountId)
        .where(column, 'in', values.slice(start, start + LOOKUP_SLICE))
        .orderBy('id')
        .execute();
      for (const row of rows) {
        const key = row[column];
        if (key) found.set(key, [...(found.get(key) ?? []), toDevice(row)]);
      }
    }
    return found;
  };

  return {
    async list(tenantId: string, filter: DeviceFilter): Promise<Device[]> {
      let query = db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId);
      if (filter.carrierAccountId) query = query.where('carrier_account_id', '=', filter.carrierAccountId);
      if (filter.iccid) query = query.where('iccid', '=', filter.iccid);
      if (filter.msisdn) query = query.where('msisdn', '=', filter.msisdn);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.carrierRatePlan) query = query.where('carrier_rate_plan', '=', filter.carrierRatePlan);
      if (filter.billingCustomerId) query = query.where('billing_customer_id', '=', filter.billingCustomerId);
      if (filter.cursor) query = query.where('id', '>', filter.cursor);
      const rows = await query.orderBy('id').limit(filter.limit).execute();
      return rows.map(toDevice);
    },

    async find(tenantId: string, id: string): Promise<Device | undefined> {
      const row = await db
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toDevice(row);
    },

    /** The tenant's lines whose ICCID, MSISDN, EID or IMEI is exactly `identifier`. */
    async findByAnyIdentifier(tenantId: string, identifier: string): Promise<Device[]> {
      const matches = await Promise.all(
        searchColumns(identifier).map((column) =>
          db
            .selectFrom('devices')
            .selectAll()
            .where('tenant_id', '=', tenantId)
            .where(column, '=', identifier)
            .limit(100)
            .execute(),
        ),
      );
      const byId = new Map(matches.flat().map((row) => [row.id, toDevice(row)]));
      return [...byId.values()];
    },

    /** The account's line for each value of the identifier column (ICCIDs are unique on an account). */
    findAllByIdentifiers,

    async findByIdentifiers(
      carrierAccountId: string,
      column: 'iccid' | 'msisdn' | 'eid',
      values: string[],
    ): Promise<Map<string, Device>> {
      const all = await findAllByIdentifiers(carrierAccountId, column, values);
      return new Map([...all].map(([key, devices]) => [key, devices[devices.length - 1]]));
    },

    /** Lines by their ids. */
    async findByIds(ids: string[]): Promise<Map<string, Device>> {
      const found = new Map<string, Device>();
      for (let start = 0; start < ids.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('devices')
          .selectAll()
          .where('id', 'in', ids.slice(start, start + LOOKUP_SLICE))
          .execute();
        for (const row of rows) found.set(row.id, toDevice(row));
      }
      return found;
    },

    /** Every bulk change that touched the line, newest first, with the line's row in it. */
    async history(tenantId: string, deviceId: string, limit = 100): Promise<DeviceHistoryEntry[]> {
      const rows = await db
        .selectFrom('device_changes')
        .innerJoin('bulk_changes', 'bulk_changes.id', 'device_changes.bulk_change_id')
        .select([
          'bulk_changes.id as bulkChangeId',
          'bulk_changes.change_type as changeType',
          'bulk_changes.status as bulkStatus',
          'bulk_changes.created_at as createdAt',
          'bulk_changes.created_by as createdBy',
          'device_changes.id as changeId',
          'device_changes.row_number as row',
          'device_changes.status as status',
          'device_changes.error_code as errorCode',
          'device_changes.error_message as errorMessage',
          'device_changes.updated_at as updatedAt',
        ])
        .where('device_changes.device_id', '=', deviceId)
        .where('bulk_changes.tenant_id', '=', tenantId)
        .orderBy('bulk_changes.created_at', 'desc')
        .limit(limit)
        .execute();
      return rows;
    },

    async listByAccount(carrierAccountId: string): Promise<Device[]> {
      const rows = await db
        .selectFrom('devices')
        .selectAll()
        .where('carrier_account_id', '=', carrierAccountId)
        .execute();
      return rows.map(toDevice);
    },

    /** Lines with a billing service, for reloading a billing simulator. */
    async listBilled(tenantId: string): Promise<Device[]> {
      const rows = await db
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('billing_service_id', 'is not', null)
        .where('billing_customer_id', 'is not', null)
        .execute();
      return rows.map(toDevice);
    },

    async countByAccount(carrierAccountId: string): Promise<number> {
      const row = await db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('carrier_account_id', '=', carrierAccountId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /**
     * What changes did to their lines, in as few statements as the patches have shapes (the columns
     * they set): lines patched alike in one update, lines patched each their own way through a JSON
     * table, never one statement per line. Returns what changed on each line (read in one statement
     * per few hundred lines first), for the audit log.
     */
    async applyPatches(
      capabilities: Capabilities,
      patches: Array<{ deviceId: string; patch: DevicePatch }>,
      at: number,
    ): Promise<LineChange[]> {
      const sets = patches.map(({ deviceId, patch }) => ({ deviceId, set: patchColumns(patch) }));
      const changes = await lineChanges(sets);
      const shapes = Map.groupBy(sets, ({ set }) => Object.keys(set).sort().join(','));
      for (const [shape, group] of shapes) {
        if (shape === '') continue;
        const columns = shape.split(',') as Array<keyof DeviceTable>;
        for (let start = 0; start < group.length; start += LOOKUP_SLICE) {
          const slice = group.slice(start, start + LOOKUP_SLICE);
          const first = JSON.stringify(slice[0].set);
          if (slice.every(({ set }) => JSON.stringify(set) === first)) {
            await db
              .updateTable('devices')
              .set({ ...slice[0].set, updated_at: at })
              .where(
                'id',
                'in',
                slice.map(({ deviceId }) => deviceId),
              )
              .execute();
            continue;
          }
          const records = capabilities.jsonRecords(
            JSON.stringify(slice.map(({ deviceId, set }) => ({ id: deviceId, ...set }))),
            'v',
            Object.fromEntries([['id', 'text'], ...columns.map((column) => [column, columnTypes[column]])]),
          );
          await sql`update devices set ${sql.join(
            columns.map((column) => sql`${sql.id(column)} = v.${sql.id(column)}`),
          )}, updated_at = ${at} from ${records} where devices.id = v.id`.execute(db);
        }
      }
      return changes;
    },

    /**
     * Inserts lines the inventory did not know and refreshes the carrier's view of the others
     * (status, plans; identifiers only where the carrier reported one). Returns how many were new and
     * what changed on the others, field by field, for the audit log.
     */
    async upsertFromCarrier(
      devices: NewDevice[],
      at: number,
    ): Promise<{ created: number; changed: LineChange[] }> {
      if (devices.length === 0) return { created: 0, changed: [] };
      const known = await db
        .selectFrom('devices')
        .select(['id', 'iccid', ...syncedColumns])
        .where('carrier_account_id', '=', devices[0].carrierAccountId)
        .where(
          'iccid',
          'in',
          devices.map((device) => device.iccid!),
        )
        .execute();
      await db
        .insertInto('devices')
        .values(devices.map((device) => deviceRow(device, at)))
        .onConflict((conflict) =>
          conflict.columns(['carrier_account_id', 'iccid']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            carrier_status: eb.ref('excluded.carrier_status'),
            carrier_rate_plan: eb.ref('excluded.carrier_rate_plan'),
            communication_plan: eb.ref('excluded.communication_plan'),
            msisdn: eb.fn.coalesce('excluded.msisdn', 'devices.msisdn'),
            imei: eb.fn.coalesce('excluded.imei', 'devices.imei'),
            eid: eb.fn.coalesce('excluded.eid', 'devices.eid'),
            // A carrier that reports no usage keeps what another read found.
            last_usage_at: eb.fn.coalesce('excluded.last_usage_at', 'devices.last_usage_at'),
            updated_at: at,
          })),
        )
        .execute();
      const before = new Map(known.map((row) => [row.iccid, row]));
      const changed = devices.flatMap((device): LineChange[] => {
        const old = before.get(device.iccid ?? null);
        if (!old) return [];
        const row = deviceRow(device, at);
        // Identifiers the carrier did not report are kept, as the update above keeps them.
        const columns = syncedColumns.filter(
          (column) => old[column] !== row[column] && (row[column] !== null || !identifierColumns.has(column)),
        );
        return columns.length === 0
          ? []
          : [
              {
                deviceId: old.id,
                iccid: device.iccid ?? null,
                before: Object.fromEntries(columns.map((column) => [column, old[column]])),
                after: Object.fromEntries(columns.map((column) => [column, row[column]])),
              },
            ];
      });
      return { created: devices.length - known.length, changed };
    },

    async insertMany(devices: NewDevice[], at: number): Promise<void> {
      for (let start = 0; start < devices.length; start += INSERT_SLICE) {
        await db
          .insertInto('devices')
          .values(devices.slice(start, start + INSERT_SLICE).map((device) => deviceRow(device, at)))
          .execute();
      }
    },
  };
}
