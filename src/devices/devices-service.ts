import { z } from 'zod';
import { changeTypes } from '../core/change-types.ts';
import { AppError, notFound } from '../core/errors.ts';
import { normalisedStatuses } from '../core/statuses.ts';
import type { Executor } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { page } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';
import { deviceHistoryRepository, type LineHistoryEntry } from './device-history-repository.ts';
import {
  type Device,
  type DeviceFilter,
  type DeviceHistoryEntry,
  devicesRepository,
} from './devices-repository.ts';

/** A line as the API shows it. */
export const deviceViewSchema = z.object({
  id: z.string(),
  carrierAccountId: z.string(),
  iccid: z.string().nullable(),
  imei: z.string().nullable(),
  msisdn: z.string().nullable(),
  eid: z.string().nullable(),
  status: z.enum(normalisedStatuses),
  carrierStatus: z.string().nullable().describe("The carrier's own word for the status"),
  carrierRatePlan: z.string().nullable(),
  communicationPlan: z.string().nullable(),
  customerRatePlanId: z.string().nullable(),
  customerPoolId: z.string().nullable(),
  billingCustomerId: z.string().nullable(),
  billingServiceId: z.string().nullable(),
  ipAddress: z.string().nullable(),
  username: z.string().nullable(),
  costCenters: z.array(z.string().nullable()).describe('Cost centers 1 to 3'),
  optimizationGroup: z.string().nullable(),
  lastUsageAt: isoTime.nullable(),
  archived: z.boolean(),
  siteId: z.string().nullable(),
  updatedAt: isoTime,
});

export const deviceView = (device: Device): z.infer<typeof deviceViewSchema> => ({
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
  optimizationGroup: device.optimizationGroup,
  lastUsageAt: device.lastUsageAt === null ? null : toIso(device.lastUsageAt),
  archived: device.archived,
  siteId: device.siteId,
  updatedAt: toIso(device.updatedAt)!,
});

/** One entry of a line's history as the API shows it. */
export const historyEntrySchema = z.object({
  id: z.string().describe('Also the cursor of the next page'),
  at: isoTime.describe('When the change was committed (ISO-8601 UTC)'),
  field: z.string().describe('The line field, as GET /devices names it (status, carrierRatePlan, iccid…)'),
  before: z.string().nullable(),
  after: z.string().nullable(),
  bulkChangeId: z.string(),
  changeType: z.enum(changeTypes).nullable(),
  changeId: z.string().describe('The row of the bulk change that made the change'),
  row: z.number().int().nullable(),
  actor: z
    .object({ id: z.string(), name: z.string().nullable() })
    .describe('Who created the bulk change, as the audit log names actors (key:<id>)'),
  carrierAccountId: z.string(),
});

export const historyEntryView = (entry: LineHistoryEntry): z.infer<typeof historyEntrySchema> => ({
  id: String(entry.id),
  at: new Date(entry.at).toISOString(),
  field: entry.field,
  before: entry.before,
  after: entry.after,
  bulkChangeId: entry.bulkChangeId,
  changeType: entry.changeType,
  changeId: entry.changeId,
  row: entry.row,
  actor: { id: entry.actor, name: entry.actorName },
  carrierAccountId: entry.carrierAccountId,
});

/** Lines read per page while walking a filter. */
const MATCHING_PAGE = 1000;

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

  /** Every line the filter matches, a page at a time, in id order (an export); stops after `max` lines. */
  async *matching(
    tenantId: string,
    filter: Omit<DeviceFilter, 'cursor' | 'limit'>,
    max = Number.POSITIVE_INFINITY,
  ): AsyncGenerator<Device> {
    let seen = 0;
    for (let cursor: string | undefined, more = true; more; ) {
      const listed = await this.list(tenantId, { ...filter, cursor, limit: MATCHING_PAGE });
      for (const device of listed.items) {
        if (seen >= max) return;
        seen += 1;
        yield device;
      }
      cursor = listed.nextCursor ?? undefined;
      more = cursor !== undefined;
    }
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

  /**
   * The line a reference names: its id, or else any identifier it has now (ICCID, MSISDN, EID, IMEI).
   * An identifier several of the tenant's lines share names none of them in particular.
   */
  async resolve(tenantId: string, reference: string): Promise<Device> {
    const byId = await devicesRepository(this.#db).find(tenantId, reference);
    if (byId) return byId;
    const matches = await this.findByIdentifier(tenantId, reference);
    if (matches.length === 0) throw notFound('Line');
    if (matches.length > 1) {
      throw new AppError(
        'AMBIGUOUS_LINE',
        `${reference} names ${matches.length} lines of the tenant; name the line by its id`,
      );
    }
    return matches[0];
  }

  /** What bulk changes changed on the line, field by field, newest first (ADR 0046). */
  async lineHistory(tenantId: string, deviceId: string, options: { cursor?: string; limit: number }) {
    const rows = await deviceHistoryRepository(this.#db).list(tenantId, deviceId, {
      before: options.cursor === undefined ? undefined : Number(options.cursor),
      limit: options.limit + 1,
    });
    return page(
      rows,
      options.limit,
      (entry) => entry,
      (entry) => entry.id,
    );
  }

  /** The bulk changes that touched the line, newest first. */
  history(tenantId: string, deviceId: string): Promise<DeviceHistoryEntry[]> {
    return devicesRepository(this.#db).history(tenantId, deviceId);
  }
}
