import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { normalisedStatuses } from '../core/statuses.ts';
import { pageOf } from '../shared/answers.ts';
import { NUMERIC_CURSOR } from '../shared/paging.ts';
import {
  type Devices,
  deviceView,
  deviceViewSchema,
  historyEntrySchema,
  historyEntryView,
} from './devices-service.ts';

export const deviceRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth; devices: Devices }> = async (
  app,
  { auth, devices },
) => {
  app.get(
    '/devices',
    {
      onRequest: requireRole(auth, 'viewer'),
      schema: {
        tags: ['devices'],
        querystring: z.object({
          carrierAccountId: z.string().optional(),
          iccid: z.string().optional(),
          msisdn: z.string().optional(),
          status: z.enum(normalisedStatuses).optional(),
          carrierRatePlan: z.string().optional(),
          billingCustomerId: z.string().optional(),
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: pageOf(deviceViewSchema) },
      },
    },
    async (request) => {
      const listed = await devices.list(principalOf(request).tenantId, request.query);
      return { ...listed, items: listed.items.map(deviceView) };
    },
  );

  app.get(
    '/devices/:id/history',
    {
      onRequest: requireRole(auth, 'viewer'),
      schema: {
        tags: ['devices'],
        summary: "A line's history: every field a bulk change changed on it, newest first",
        description:
          'The line is named by its id or by any identifier it has now (ICCID, MSISDN, EID, IMEI); its history follows it through SIM swaps and new numbers.',
        params: z.object({ id: z.string().trim().min(1).max(100) }),
        querystring: z.object({
          cursor: z.string().regex(NUMERIC_CURSOR).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: {
          200: pageOf(historyEntrySchema).extend({ deviceId: z.string() }),
        },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const device = await devices.resolve(tenantId, request.params.id);
      const listed = await devices.lineHistory(tenantId, device.id, request.query);
      return {
        deviceId: device.id,
        items: listed.items.map(historyEntryView),
        nextCursor: listed.nextCursor,
      };
    },
  );
};
