import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/actor.ts';
import { roles } from '../core/roles.ts';
import { pageOf } from '../shared/answers.ts';
import { apiKeyViewSchema, createdApiKeySchema } from './api-keys.ts';
import { type KeyAuth, principalOf, requireRole } from './auth.ts';

/**
 * `GET`, `POST /api/v1/api-keys` and `DELETE /api/v1/api-keys/{id}` (admin): a tenant's keys, with
 * when each was last used, named new keys, and their revocation (also `bulkchange keys create|revoke`).
 */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth }> = async (app, { auth }) => {
  const admin = requireRole(auth, 'admin');
  const tags = ['api keys'];

  app.get(
    '/api-keys',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: "The tenant's API keys (never the keys themselves)",
        response: { 200: pageOf(apiKeyViewSchema) },
      },
    },
    async (request) => ({ items: await auth.keys.list(principalOf(request).tenantId), nextCursor: null }),
  );

  app.post(
    '/api-keys',
    {
      onRequest: admin,
      schema: {
        tags,
        body: z
          .object({ name: z.string().trim().min(1).max(200), role: z.enum(roles) })
          .meta({ example: { name: 'CI pipeline', role: 'operator' } }),
        summary: 'Create a named key: the answer carries the key itself, shown this once',
        response: { 201: createdApiKeySchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply
        .status(201)
        .send(await auth.keys.create(principal.tenantId, request.body, actorOf(principal)));
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        params: z.object({ id: z.string().min(1).max(64) }),
        summary: 'Revoke a key: it stops working at once, in the API and in portal sessions',
        response: { 200: apiKeyViewSchema.describe('The key, revoked') },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return auth.keys.revoke(principal.tenantId, request.params.id, actorOf(principal));
    },
  );
};
