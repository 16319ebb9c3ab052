import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // The billing side of a line: its service in the billing system, and when it last used data.
  await db.schema.alterTable('devices').addColumn('billing_service_id', 'text').execute();
  await db.schema.alterTable('devices').addColumn('last_usage_at', 'bigint').execute();
  // A tenant's billing system (Rev.io): one per tenant.
  await db.schema
    .createTable('billing_connections')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('credentials_encrypted', 'text', (c) => c.notNull())
    .addColumn('write_enabled', 'integer', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Catalogs intake checks rows against (API §2): the tenant's customers, customer plans and pools.
  for (const table of ['billing_customers', 'customer_rate_plans', 'customer_pools']) {
    await db.schema
      .createTable(table)
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('data_mb', 'integer')
      .addColumn('monthly_rate', 'real')
      .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
      .execute();
  }
}
