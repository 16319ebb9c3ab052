import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/actor.ts';
import { pageOf } from '../shared/answers.ts';
import { type KeyAuth, principalOf, requireRole } from './auth.ts';
import { newUserSchema, type Users, userPatchSchema, userViewSchema } from './users.ts';

const idParams = z.object({ id: z.string().min(1).max(64) });

/**
 * `/api/v1/users` (admin): the tenant's portal users, their roles and modules, created with a first
 * password and disabled (or re-enabled) rather than deleted, so what they did stays attributed.
 */
export const userRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth; users: Users }> = async (
  app,
  { auth, users },
) => {
  const admin = requireRole(auth, 'admin');
  const tags = ['users'];

  app.get(
    '/users',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: "The tenant's portal users (never their passwords)",
        response: { 200: pageOf(userViewSchema) },
      },
    },
    async (request) => ({ items: await users.list(principalOf(request).tenantId), nextCursor: null }),
  );

  app.get(
    '/users/:id',
    { onRequest: admin, schema: { tags, params: idParams, response: { 200: userViewSchema } } },
    async (request) => users.get(principalOf(request).tenantId, request.params.id),
  );

  app.post(
    '/users',
    {
      onRequest: admin,
      schema: {
        tags,
        body: newUserSchema.meta({
          example: {
            email: 'ana.ruiz@acme.example',
            name: 'Ana Ruiz',
            role: 'operator',
            password: 'a long passphrase of her own',
            modules: ['m2m'],
          },
        }),
        summary: 'Add a portal user who signs in with e-mail and password',
        response: { 201: userViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply.status(201).send(await users.create(principal.tenantId, request.body, actorOf(principal)));
    },
  );

  app.patch(
    '/users/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        params: idParams,
        body: userPatchSchema,
        summary: "Change a user's name, role, modules or password, or disable them (ends their sessions)",
        response: { 200: userViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return users.update(principal.tenantId, request.params.id, request.body, actorOf(principal));
    },
  );
};
