import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { principalOf, requireRole } from '../http/auth.ts';
import { type BillingConnections, billingConnectionInput } from './billing-connections.ts';
import { billingRepository, type CatalogName, type CatalogRow } from './billing-repository.ts';

const catalogEntry = z.object({
  id: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  status: z.enum(['active', 'closed']).default('active'),
  dataMb: z.number().int().nonnegative().nullish(),
  monthlyRate: z.number().nonnegative().nullish(),
});

const entryView = (row: CatalogRow) => ({
  id: row.id,
  name: row.name,
  status: row.status,
  dataMb: row.data_mb,
  monthlyRate: row.monthly_rate,
});

/** API §2's catalogs, by path. */
const catalogs: Record<string, CatalogName> = {
  'billing-customers': 'billing_customers',
  'customer-rate-plans': 'customer_rate_plans',
  'customer-pools': 'customer_pools',
};

export const billingRoutes: FastifyPluginAsyncZod<{ db: Db; billing: BillingConnections }> = async (
  app,
  { db, billing },
) => {
  const viewer = requireRole(db, 'viewer');
  const admin = requireRole(db, 'admin');
  const tags = ['billing'];

  app.get('/billing-connection', { onRequest: admin, schema: { tags } }, async (request) => ({
    connection: await billing.get(principalOf(request).tenantId),
  }));

  app.put(
    '/billing-connection',
    {
      onRequest: admin,
      schema: {
        tags,
        body: billingConnectionInput,
        summary: 'Connect Rev.io (credentials are stored encrypted)',
      },
    },
    async (request) => ({ connection: await billing.save(principalOf(request).tenantId, request.body) }),
  );

  for (const [path, table] of Object.entries(catalogs)) {
    app.get(`/${path}`, { onRequest: viewer, schema: { tags } }, async (request) => ({
      items: (await billingRepository(db).catalog(table, principalOf(request).tenantId)).map(entryView),
      nextCursor: null,
    }));

    app.post(
      `/${path}`,
      {
        onRequest: admin,
        schema: {
          tags,
          body: z.object({ items: z.array(catalogEntry).min(1).max(10_000) }),
          summary: 'Add or update entries',
        },
      },
      async (request) => {
        const tenantId = principalOf(request).tenantId;
        await billingRepository(db).upsertCatalog(
          table,
          request.body.items.map((item) => ({
            tenant_id: tenantId,
            id: item.id,
            name: item.name,
            status: item.status,
            data_mb: item.dataMb ?? null,
            monthly_rate: item.monthlyRate ?? null,
          })),
        );
        return {
          items: (await billingRepository(db).catalog(table, tenantId)).map(entryView),
          nextCursor: null,
        };
      },
    );
  }

  app.post(
    '/billing-customers/sync',
    { onRequest: admin, schema: { tags, summary: "Read the billing system's customers into the catalog" } },
    async (request) => {
      const tenantId = principalOf(request).tenantId;
      const revio = await billing.require(tenantId);
      const audit = () => {};
      let imported = 0;
      for (let page = 1; ; page++) {
        const { records, record_count } = await revio.customers(page, { audit });
        await billingRepository(db).upsertCatalog(
          'billing_customers',
          records.map((customer) => ({
            tenant_id: tenantId,
            id: String(customer.customer_id),
            name: customer.name,
            status: customer.status.toLowerCase() === 'active' ? 'active' : 'closed',
            data_mb: null,
            monthly_rate: null,
          })),
        );
        imported += records.length;
        if (records.length === 0 || imported >= record_count) return { imported };
      }
    },
  );
};
