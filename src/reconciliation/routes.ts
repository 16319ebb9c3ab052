import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { actorOf } from '../audit/actor.ts';
import { driftKinds } from '../core/drifts.ts';
import { fileAnswer, pageOf } from '../shared/answers.ts';
import { NUMERIC_CURSOR } from '../shared/paging.ts';
import {
  driftViewSchema,
  proposedFixSchema,
  type Reconciliations,
  reconciliationScheduleSchema,
  reconciliationViewSchema,
} from './reconciliations.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const limit = z.coerce.number().int().min(1).max(1000).default(100);

const proposeFixBody = z
  .object({
    driftIds: z
      .array(z.union([z.string().regex(/^\d{1,15}$/, 'a drift id'), z.number().int().positive()]))
      .min(1)
      .max(100_000)
      .transform((ids) => ids.map(String)),
    dryRun: z.boolean().default(false),
  })
  .meta({ example: { driftIds: ['41', '42'], dryRun: true } });

const scheduleBody = z.object({
  everyMinutes: z
    .number()
    .int()
    .min(5)
    .max(31 * 24 * 60)
    .nullable()
    .describe('How often the account is reconciled; null stops its schedule'),
});

export const reconciliationRoutes: FastifyPluginAsyncZod<{
  auth: KeyAuth;
  accounts: CarrierAccounts;
  reconciliations: Reconciliations;
}> = async (app, { auth, accounts, reconciliations }) => {
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const tags = ['reconciliation'];

  app.post(
    '/carrier-accounts/:id/reconciliations',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        summary: "Compare the carrier's lines, the inventory and billing for the account (asynchronous)",
        response: { 202: reconciliationViewSchema.describe('Queued') },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const account = await accounts.get(principal.tenantId, request.params.id);
      return reply.status(202).send(await reconciliations.request(account, actorOf(principal)));
    },
  );

  app.get(
    '/carrier-accounts/:id/reconciliation-schedule',
    {
      onRequest: viewer,
      schema: { tags, params: idParams, response: { 200: reconciliationScheduleSchema } },
    },
    async (request) => reconciliations.schedule(principalOf(request).tenantId, request.params.id),
  );

  app.put(
    '/carrier-accounts/:id/reconciliation-schedule',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        body: scheduleBody,
        summary: "Set or stop the account's reconciliation schedule",
        response: { 200: reconciliationScheduleSchema },
      },
    },
    async (request) =>
      reconciliations.setSchedule(principalOf(request), request.params.id, request.body.everyMinutes),
  );

  app.get(
    '/reconciliations',
    {
      onRequest: viewer,
      schema: {
        tags,
        querystring: z.object({
          carrierAccountId: z.string().max(100).optional(),
          cursor: z.string().max(100).optional(),
          limit,
        }),
        response: { 200: pageOf(reconciliationViewSchema) },
      },
    },
    async (request) => reconciliations.list(principalOf(request).tenantId, request.query),
  );

  app.get(
    '/reconciliations/:id',
    { onRequest: viewer, schema: { tags, params: idParams, response: { 200: reconciliationViewSchema } } },
    async (request) => reconciliations.get(principalOf(request).tenantId, request.params.id),
  );

  app.get(
    '/reconciliations/:id/drifts',
    {
      onRequest: viewer,
      schema: {
        tags,
        params: idParams,
        summary: 'The drifts a reconciliation found: line, field, and the carrier / ours / billing values',
        querystring: z.object({
          kind: z.enum(driftKinds).optional(),
          cursor: z.string().regex(NUMERIC_CURSOR, 'a drift id').optional(),
          limit,
        }),
        response: { 200: pageOf(driftViewSchema) },
      },
    },
    async (request) =>
      reconciliations.drifts(principalOf(request).tenantId, request.params.id, request.query),
  );

  app.get(
    '/reconciliations/:id/drifts.csv',
    {
      onRequest: viewer,
      schema: {
        tags,
        params: idParams,
        summary: 'The drifts as CSV',
        response: { 200: fileAnswer('The drifts', ['text/csv']) },
      },
    },
    async (request, reply) => {
      const csv = await reconciliations.driftsCsv(principalOf(request).tenantId, request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="reconciliation-${request.params.id}.csv"`)
        .send(csv);
    },
  );

  app.post(
    '/reconciliations/:id/propose-fix',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        body: proposeFixBody,
        summary: 'Turn selected drifts into ordinary bulk changes (previewed with dryRun)',
        response: {
          200: proposedFixSchema.describe('The preview (dryRun: true)'),
          201: proposedFixSchema.describe('The fix bulk changes, created'),
        },
      },
    },
    async (request, reply) => {
      const proposed = await reconciliations.proposeFix(
        principalOf(request),
        request.params.id,
        request.body,
      );
      return reply.status(request.body.dryRun ? 200 : 201).send(proposed);
    },
  );
};
