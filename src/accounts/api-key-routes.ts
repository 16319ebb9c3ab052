import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/actor.ts';
import { type KeyAuth, principalOf, requireRole } from './auth.ts';

/**
 * `GET /api/v1/api-keys` and `DELETE /api/v1/api-keys/{id}` (admin): a tenant's keys, with when each
 * was last used, and their revocation. Keys are created with `bulkchange keys create`.
 */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth }> = async (app, { auth }) => {
  const admin = requireRole(auth, 'admin');
  const tags = ['api keys'];

  app.get(
    '/api-keys',
    { onRequest: admin, schema: { tags, summary: "The tenant's API keys (never the keys themselves)" } },
    async (request) => ({ items: await auth.keys.list(principalOf(request).tenantId), nextCursor: null }),
  );

  app.delete(
    '/api-keys/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        params: z.object({ id: z.string().min(1).max(64) }),
        summary: 'Revoke a key: it stops working at once, in the API and in portal sessions',
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return auth.keys.revoke(principal.tenantId, request.params.id, actorOf(principal));
    },
  );
};
