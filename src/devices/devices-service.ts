import { notFound } from '../core/errors.ts';
import type { Executor } from '../db/database.ts';
import { page } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';
import {
  type Device,
  type DeviceFilter,
  type DeviceHistoryEntry,
  devicesRepository,
} from './devices-repository.ts';

/** A line as the API shows it. */
export const deviceView = (device: Device) => ({
  id: device.id,
  carrierAccountId: device.carrierAccountId,
  iccid: device.iccid,
  imei: device.imei,
  msisdn: device.msisdn,
  eid: device.eid,
  status: device.status,
  carrierStatus: device.carrierStatus,
  carrierRatePlan: device.carrierRatePlan,
  communicationPlan: device.communicationPlan,
  customerRatePlanId: device.customerRatePlanId,
  customerPoolId: device.customerPoolId,
  billingCustomerId: device.billingCustomerId,
  billingServiceId: device.billingServiceId,
  ipAddress: device.ipAddress,
  username: device.username,
  costCenters: [device.costCenter1, device.costCenter2, device.costCenter3],
  lastUsageAt: device.lastUsageAt === null ? null : toIso(device.lastUsageAt),
  archived: device.archived,
  updatedAt: toIso(device.updatedAt),
});

/** The inventory as the API and the portal read it, always within one tenant. */
export class Devices {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** A page of lines, in id order; the cursor is the last id of the previous page. */
  async list(tenantId: string, filter: DeviceFilter) {
    const rows = await devicesRepository(this.#db).list(tenantId, { ...filter, limit: filter.limit + 1 });
    return page(
      rows,
      filter.limit,
      (device) => device,
      (device) => device.id,
    );
  }

  async get(tenantId: string, id: string): Promise<Device> {
    const device = await devicesRepository(this.#db).find(tenantId, id);
    if (!device) throw notFound('Line');
    return device;
  }

  /** Lines whose ICCID, MSISDN, EID or IMEI is exactly this. */
  findByIdentifier(tenantId: string, identifier: string): Promise<Device[]> {
    return devicesRepository(this.#db).findByAnyIdentifier(tenantId, identifier);
  }

  /** The bulk changes that touched the line, newest first. */
  history(tenantId: string, deviceId: string): Promise<DeviceHistoryEntry[]> {
    return devicesRepository(this.#db).history(tenantId, deviceId);
  }
}
