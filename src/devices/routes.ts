import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { principalOf, requireRole } from '../http/auth.ts';
import { page } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';
import { type DeviceRow, devicesRepository } from './devices-repository.ts';

const deviceView = (row: DeviceRow) => ({
  id: row.id,
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
  costCenters: [row.cost_center1, row.cost_center2, row.cost_center3],
  lastUsageAt: row.last_usage_at === null ? null : toIso(row.last_usage_at),
  archived: Boolean(row.archived),
  updatedAt: toIso(row.updated_at),
});

export const deviceRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/devices',
    {
      onRequest: requireRole(db, 'viewer'),
      schema: {
        tags: ['devices'],
        querystring: z.object({
          carrierAccountId: z.string().optional(),
          iccid: z.string().optional(),
          msisdn: z.string().optional(),
          status: z.string().optional(),
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      const rows = await devicesRepository(db).list(principalOf(request).tenantId, {
        ...filter,
        limit: limit + 1,
      });
      return page(rows, limit, deviceView, (row) => row.id);
    },
  );
};
