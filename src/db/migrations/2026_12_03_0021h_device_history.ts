import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, capabilities: { serialColumns: boolean }): Promise<void> {
  // One row per field a bulk change's row changed on a line (ADR 0046): keyed by the line's own id,
  // so a line keeps its history through SIM swaps, new numbers and other bulk changes.
  await db.schema
    .createTable('device_history')
    .addColumn('id', capabilities.serialColumns ? 'bigserial' : 'integer', (c) =>
      capabilities.serialColumns ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('carrier_account_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .addColumn('bulk_change_id', 'text', (c) => c.notNull())
    .addColumn('device_change_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('device_history_line')
    .on('device_history')
    .columns(['tenant_id', 'device_id', 'id'])
    .execute();
  // Who created a bulk change, as the audit log names actors (`key:<id>`); its name alone is not unique.
  await db.schema.alterTable('bulk_changes').addColumn('created_by_actor', 'text').execute();
}
