import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { BillingConnectionTable, CatalogTable } from '../db/schema.ts';

export type BillingConnectionRow = Selectable<BillingConnectionTable>;
export type CatalogRow = Selectable<CatalogTable>;
export const catalogTables = ['billing_customers', 'customer_rate_plans', 'customer_pools'] as const;
export type CatalogName = (typeof catalogTables)[number];

export function billingRepository(db: Executor) {
  return {
    async connection(tenantId: string): Promise<BillingConnectionRow | undefined> {
      return db
        .selectFrom('billing_connections')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
    },

    async saveConnection(row: BillingConnectionRow): Promise<void> {
      const { tenant_id: _tenant, ...update } = row;
      await db
        .insertInto('billing_connections')
        .values(row)
        .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(update))
        .execute();
    },

    async catalog(table: CatalogName, tenantId: string): Promise<CatalogRow[]> {
      return db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    },

    async catalogEntries(
      table: CatalogName,
      tenantId: string,
      ids: string[],
    ): Promise<Map<string, CatalogRow>> {
      const found = new Map<string, CatalogRow>();
      for (let start = 0; start < ids.length; start += 500) {
        const slice = ids.slice(start, start + 500);
        const rows = await db
          .selectFrom(table)
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', slice)
          .execute();
        for (const row of rows) found.set(row.id, row);
      }
      return found;
    },

    async upsertCatalog(table: CatalogName, rows: CatalogRow[]): Promise<void> {
      for (let start = 0; start < rows.length; start += 200) {
        await db
          .insertInto(table)
          .values(rows.slice(start, start + 200))
          .onConflict((conflict) =>
            conflict.columns(['tenant_id', 'id']).doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              status: eb.ref('excluded.status'),
              data_mb: eb.ref('excluded.data_mb'),
              monthly_rate: eb.ref('excluded.monthly_rate'),
            })),
          )
          .execute();
      }
    },
  };
}
