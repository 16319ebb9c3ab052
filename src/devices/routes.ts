import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { normalisedStatuses } from '../core/statuses.ts';
import { type Devices, deviceView } from './devices-service.ts';

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
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const listed = await devices.list(principalOf(request).tenantId, request.query);
      return { ...listed, items: listed.items.map(deviceView) };
    },
  );
};
