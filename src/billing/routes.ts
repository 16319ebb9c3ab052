import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { actorOf } from '../audit/actor.ts';
import { pageOf } from '../shared/answers.ts';
import { type BillingCatalogs, catalogEntrySchema } from './billing-catalogs.ts';
import {
  type BillingConnections,
  billingConnectionAnswerSchema,
  billingConnectionInput,
} from './billing-connections.ts';
import type { CatalogName } from './billing-repository.ts';

const catalogEntry = z.object({
  id: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  status: z.enum(['active', 'closed']).default('active'),
  // Within the columns' types on both databases (PostgreSQL answered 500 past them): an integer of
  // megabytes (100 TB at most) and a rate a 4-byte float holds.
  dataMb: z.number().int().nonnegative().max(100_000_000).nullish(),
  monthlyRate: z.number().nonnegative().max(100_000).nullish(),
});

const catalogPage = pageOf(catalogEntrySchema);

/** `POST /billing-customers/sync`: how many customers were read in. */
const customersImported = z.object({ imported: z.number().int() });

/** API §2's catalogs, by path. */
const catalogs: Record<string, CatalogName> = {
  'billing-customers': 'billing_customers',
  'customer-rate-plans': 'customer_rate_plans',
  'customer-pools': 'customer_pools',
};

export const billingRoutes: FastifyPluginAsyncZod<{
  auth: KeyAuth;
  billing: BillingConnections;
  catalogs: BillingCatalogs;
}> = async (app, { auth, billing, catalogs: entries }) => {
  const viewer = requireRole(auth, 'viewer');
  const admin = requireRole(auth, 'admin');
  const tags = ['billing'];

  app.get(
    '/billing-connection',
    { onRequest: admin, schema: { tags, response: { 200: billingConnectionAnswerSchema } } },
    async (request) => ({ connection: await billing.get(principalOf(request).tenantId) }),
  );

  app.put(
    '/billing-connection',
    {
      onRequest: admin,
      schema: {
        tags,
        body: billingConnectionInput,
        summary: 'Connect Rev.io (credentials are stored encrypted)',
        response: { 200: billingConnectionAnswerSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return { connection: await billing.save(principal.tenantId, request.body, actorOf(principal)) };
    },
  );

  for (const [path, catalog] of Object.entries(catalogs)) {
    app.get(
      `/${path}`,
      { onRequest: viewer, schema: { tags, response: { 200: catalogPage } } },
      async (request) => ({
        items: await entries.list(principalOf(request).tenantId, catalog),
        nextCursor: null,
      }),
    );

    app.post(
      `/${path}`,
      {
        onRequest: admin,
        schema: {
          tags,
          body: z.object({ items: z.array(catalogEntry).min(1).max(10_000) }).meta({
            example: { items: [{ id: 'CUST-7', name: 'Acme Logistics', status: 'active' }] },
          }),
          summary: 'Add or update entries',
          response: { 200: catalogPage.describe('The whole catalog, as it now is') },
        },
      },
      async (request) => {
        const tenantId = principalOf(request).tenantId;
        await entries.upsert(
          tenantId,
          catalog,
          request.body.items.map((item) => ({
            ...item,
            dataMb: item.dataMb ?? null,
            monthlyRate: item.monthlyRate ?? null,
          })),
        );
        return { items: await entries.list(tenantId, catalog), nextCursor: null };
      },
    );
  }

  app.post(
    '/billing-customers/sync',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: "Read the billing system's customers into the catalog",
        response: { 200: customersImported },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return { imported: await entries.syncCustomers(principal.tenantId, actorOf(principal)) };
    },
  );
};
