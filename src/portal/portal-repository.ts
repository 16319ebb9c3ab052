import type { DeviceChangeRow } from '../bulk-changes/bulk-changes-repository.ts';
import type { Db } from '../db/database.ts';
import type { DeviceRow } from '../devices/devices-repository.ts';

/** Identifier columns searched, each through its own index; IMEI (no index) only when it looks like one. */
const searchColumns = (identifier: string) =>
  (['iccid', 'msisdn', 'eid', 'imei'] as const).filter(
    (column) => column !== 'imei' || /^\d{15}$/.test(identifier),
  );

/**
 * Reads the portal needs and the API does not offer (yet): finding lines by any identifier, a line's
 * history, and a bulk change's rows for one line. All scoped by tenant.
 */
export function portalRepository(db: Db) {
  const tenantAccounts = (tenantId: string) =>
    db.selectFrom('carrier_accounts').select('id').where('tenant_id', '=', tenantId);

  /** Lines whose ICCID, MSISDN, EID or IMEI is exactly `identifier`. */
  async function findDevices(tenantId: string, identifier: string): Promise<DeviceRow[]> {
    const matches = await Promise.all(
      searchColumns(identifier).map((column) =>
        db
          .selectFrom('devices')
          .selectAll()
          .where('carrier_account_id', 'in', tenantAccounts(tenantId))
          .where(column, '=', identifier)
          .limit(100)
          .execute(),
      ),
    );
    const byId = new Map(matches.flat().map((row) => [row.id, row]));
    return [...byId.values()];
  }

  return {
    findDevices,

    async device(tenantId: string, id: string): Promise<DeviceRow | undefined> {
      return db
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    /** Every bulk change that touched the line, newest first, with the line's row in it. */
    async deviceHistory(tenantId: string, deviceId: string, limit = 100) {
      return db
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
    },

    /** The bulk change's rows for the lines matching `identifier`, found through the line's index. */
    async changesForIdentifier(
      tenantId: string,
      bulkChangeId: string,
      identifier: string,
    ): Promise<DeviceChangeRow[]> {
      const devices = await findDevices(tenantId, identifier);
      if (devices.length === 0) return [];
      return db
        .selectFrom('device_changes')
        .selectAll()
        .where('bulk_change_id', '=', bulkChangeId)
        .where(
          'device_id',
          'in',
          devices.map((device) => device.id),
        )
        .orderBy('row_number')
        .execute();
    },
  };
}
export type PortalRepository = ReturnType<typeof portalRepository>;
