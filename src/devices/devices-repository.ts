import type { Selectable } from 'kysely';
import type { DevicePatch, DeviceRecord, NormalisedStatus } from '../carriers/carrier.ts';
import type { Executor } from '../db/database.ts';
import type { DeviceTable } from '../db/schema.ts';

export type DeviceRow = Selectable<DeviceTable>;
export type NewDevice = Omit<DeviceRow, 'archived' | 'created_at' | 'updated_at'> & { archived?: number };

type Required = 'id' | 'tenant_id' | 'carrier_account_id' | 'status';

/** A new inventory line: what is not given is unknown (null). */
export const newDevice = (
  fields: Pick<NewDevice, Required> & Partial<Omit<NewDevice, Required>>,
): NewDevice => ({
  iccid: null,
  imei: null,
  msisdn: null,
  eid: null,
  carrier_status: null,
  carrier_rate_plan: null,
  communication_plan: null,
  customer_rate_plan_id: null,
  customer_pool_id: null,
  billing_customer_id: null,
  ip_address: null,
  username: null,
  cost_center1: null,
  cost_center2: null,
  cost_center3: null,
  billing_service_id: null,
  last_usage_at: null,
  ...fields,
});

export const toDeviceRecord = (row: DeviceRow): DeviceRecord => ({
  id: row.id,
  carrierAccountId: row.carrier_account_id,
  iccid: row.iccid,
  imei: row.imei,
  msisdn: row.msisdn,
  eid: row.eid,
  status: row.status as NormalisedStatus,
  carrierStatus: row.carrier_status,
  carrierRatePlan: row.carrier_rate_plan,
  communicationPlan: row.communication_plan,
  billingCustomerId: row.billing_customer_id,
  billingServiceId: row.billing_service_id,
  customerRatePlanId: row.customer_rate_plan_id,
  customerPoolId: row.customer_pool_id,
  lastUsageAt: row.last_usage_at,
});

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
  return set;
};

export interface DeviceFilter {
  carrierAccountId?: string;
  iccid?: string;
  msisdn?: string;
  status?: string;
  cursor?: string;
  limit: number;
}

/** SQLite allows 32k bound parameters; lookups go in slices well below that. */
const LOOKUP_SLICE = 500;

export function devicesRepository(db: Executor) {
  return {
    async list(tenantId: string, filter: DeviceFilter): Promise<DeviceRow[]> {
      let query = db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId);
      if (filter.carrierAccountId) query = query.where('carrier_account_id', '=', filter.carrierAccountId);
      if (filter.iccid) query = query.where('iccid', '=', filter.iccid);
      if (filter.msisdn) query = query.where('msisdn', '=', filter.msisdn);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.cursor) query = query.where('id', '>', filter.cursor);
      return query.orderBy('id').limit(filter.limit).execute();
    },

    /** The account's lines keyed by the given identifier column, for intake checks. */
    async findByIdentifiers(
      carrierAccountId: string,
      column: 'iccid' | 'msisdn' | 'eid',
      values: string[],
    ): Promise<Map<string, DeviceRow>> {
      const found = new Map<string, DeviceRow>();
      for (let start = 0; start < values.length; start += LOOKUP_SLICE) {
        const rows = await db
          .selectFrom('devices')
          .selectAll()
          .where('carrier_account_id', '=', carrierAccountId)
          .where(column, 'in', values.slice(start, start + LOOKUP_SLICE))
          .execute();
        for (const row of rows) {
          const key = row[column];
          if (key) found.set(key, row);
        }
      }
      return found;
    },

    async listByAccount(carrierAccountId: string): Promise<DeviceRow[]> {
      return db
        .selectFrom('devices')
        .selectAll()
        .where('carrier_account_id', '=', carrierAccountId)
        .execute();
    },

    /** Lines with a billing service, for reloading a billing simulator. */
    async listBilled(tenantId: string): Promise<DeviceRow[]> {
      return db
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('billing_service_id', 'is not', null)
        .where('billing_customer_id', 'is not', null)
        .execute();
    },

    async countByAccount(carrierAccountId: string): Promise<number> {
      const row = await db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('carrier_account_id', '=', carrierAccountId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async applyPatch(deviceId: string, patch: DevicePatch, at: number): Promise<void> {
      const set = patchColumns(patch);
      if (Object.keys(set).length === 0) return;
      await db
        .updateTable('devices')
        .set({ ...set, updated_at: at })
        .where('id', '=', deviceId)
        .execute();
    },

    /**
     * Inserts lines the inventory did not know and refreshes the carrier's view of the others
     * (status, plans; identifiers only where the carrier reported one). Returns how many were new.
     */
    async upsertFromCarrier(devices: NewDevice[], at: number): Promise<number> {
      if (devices.length === 0) return 0;
      const known = await db
        .selectFrom('devices')
        .select('iccid')
        .where('carrier_account_id', '=', devices[0].carrier_account_id)
        .where(
          'iccid',
          'in',
          devices.map((device) => device.iccid!),
        )
        .execute();
      await db
        .insertInto('devices')
        .values(devices.map((device) => ({ archived: 0, ...device, created_at: at, updated_at: at })))
        .onConflict((conflict) =>
          conflict.columns(['carrier_account_id', 'iccid']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            carrier_status: eb.ref('excluded.carrier_status'),
            carrier_rate_plan: eb.ref('excluded.carrier_rate_plan'),
            communication_plan: eb.ref('excluded.communication_plan'),
            msisdn: eb.fn.coalesce('excluded.msisdn', 'devices.msisdn'),
            imei: eb.fn.coalesce('excluded.imei', 'devices.imei'),
            eid: eb.fn.coalesce('excluded.eid', 'devices.eid'),
            updated_at: at,
          })),
        )
        .execute();
      return devices.length - known.length;
    },

    async insertMany(devices: NewDevice[], at: number): Promise<void> {
      for (let start = 0; start < devices.length; start += 200) {
        await db
          .insertInto('devices')
          .values(
            devices
              .slice(start, start + 200)
              .map((device) => ({ archived: 0, ...device, created_at: at, updated_at: at })),
          )
          .execute();
      }
    },
  };
}
