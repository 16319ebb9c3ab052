import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Actor, actorOf } from '../audit/actor.ts';
import { carrierNames } from '../core/change-types.ts';
import { pageOf } from '../shared/answers.ts';
import { type KeyAuth, principalOf, requireRole } from './auth.ts';
import { type CarrierAccounts, carrierAccountViewSchema, ratePlanViewSchema } from './carrier-accounts.ts';

const idParams = z.object({ id: z.string().min(1) });

const accountFields = {
  name: z.string().trim().min(1).max(200),
  baseUrl: z.url({ protocol: /^https?$/ }),
  credentials: z.record(z.string(), z.unknown()),
  writeEnabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
};

const accountInput = z
  .object({
    ...accountFields,
    carrier: z.enum(carrierNames),
    // New accounts start read-only: an operator turns writes on after a dry run.
    writeEnabled: accountFields.writeEnabled.default(false),
    settings: accountFields.settings.default({}),
  })
  .meta({
    example: {
      name: 'Jasper (fleet A)',
      carrier: 'jasper',
      baseUrl: 'https://restapi.example-carrier.com',
      credentials: { username: 'ops-api', apiKey: 'your-api-key' },
      settings: { variant: 'pod19', limits: { requestsPerSecond: 5 } },
    },
  });

/** `POST /carrier-accounts/{id}/inventory-sync`: the sync is queued. */
const inventorySyncQueued = z.object({ carrierAccountId: z.string(), status: z.literal('queued') });

/** Only what is sent changes; no defaults here, or a PATCH would reset what it does not name. */
const accountPatch = z.object(accountFields).partial();

export interface CarrierAccountRoutesOptions {
  auth: KeyAuth;
  accounts: CarrierAccounts;
  /** Queues a read of the account's lines from its carrier. */
  requestInventorySync: (account: { id: string; tenantId: string }, actor: Actor) => Promise<void>;
}

export const carrierAccountRoutes: FastifyPluginAsyncZod<CarrierAccountRoutesOptions> = async (
  app,
  { auth, accounts, requestInventorySync },
) => {
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const admin = requireRole(auth, 'admin');
  const tags = ['carrier accounts'];

  app.get(
    '/carrier-accounts',
    { onRequest: viewer, schema: { tags, response: { 200: pageOf(carrierAccountViewSchema) } } },
    async (request) => ({
      items: await accounts.list(principalOf(request).tenantId),
      nextCursor: null,
    }),
  );

  app.get(
    '/carrier-accounts/:id',
    { onRequest: viewer, schema: { tags, params: idParams, response: { 200: carrierAccountViewSchema } } },
    async (request) => accounts.view(await accounts.get(principalOf(request).tenantId, request.params.id)),
  );

  app.post(
    '/carrier-accounts',
    { onRequest: admin, schema: { tags, body: accountInput, response: { 201: carrierAccountViewSchema } } },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await accounts.create(principalOf(request).tenantId, request.body, actorOf(principalOf(request))),
        ),
  );

  app.patch(
    '/carrier-accounts/:id',
    {
      onRequest: admin,
      schema: { tags, params: idParams, body: accountPatch, response: { 200: carrierAccountViewSchema } },
    },
    async (request) =>
      accounts.update(
        principalOf(request).tenantId,
        request.params.id,
        request.body,
        actorOf(principalOf(request)),
      ),
  );

  app.post(
    '/carrier-accounts/:id/inventory-sync',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        summary: "Read the account's lines from the carrier into the inventory (asynchronous)",
        response: { 202: inventorySyncQueued },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const account = await accounts.get(principal.tenantId, request.params.id);
      await requestInventorySync(account, actorOf(principal));
      return reply.status(202).send({ carrierAccountId: account.id, status: 'queued' });
    },
  );

  app.get(
    '/carrier-accounts/:id/rate-plans',
    { onRequest: viewer, schema: { tags, params: idParams, response: { 200: pageOf(ratePlanViewSchema) } } },
    async (request) => {
      const plans = await accounts.ratePlans(principalOf(request).tenantId, request.params.id);
      return {
        items: plans.map(({ dataMb, ...plan }) => ({ ...plan, ...(dataMb !== null ? { dataMb } : {}) })),
        nextCursor: null,
      };
    },
  );
};
