import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, capabilities: { serialColumns: boolean }): Promise<void> {
  // One run of a three-way reconciliation of a carrier account (ADR 0049): its counts and its end.
  await db.schema
    .createTable('reconciliations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('carrier_account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('counts', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('reconciliations_account')
    .on('reconciliations')
    .columns(['tenant_id', 'carrier_account_id', 'created_at'])
    .execute();
  // What a run found: one row per line and kind, the three sides' values side by side.
  await db.schema
    .createTable('reconciliation_drifts')
    .addColumn('id', capabilities.serialColumns ? 'bigserial' : 'integer', (c) =>
      capabilities.serialColumns ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('reconciliation_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('iccid', 'text')
    .addColumn('msisdn', 'text')
    .addColumn('carrier_value', 'text')
    .addColumn('our_value', 'text')
    .addColumn('billing_value', 'text')
    .addColumn('carrier_status', 'text')
    .addColumn('billing_customer_id', 'text')
    .execute();
  await db.schema
    .createIndex('reconciliation_drifts_run')
    .on('reconciliation_drifts')
    .columns(['reconciliation_id', 'id'])
    .execute();
  // A carrier account's reconciliation schedule: run every so many minutes, the next run due at.
  await db.schema
    .createTable('reconciliation_schedules')
    .addColumn('carrier_account_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('every_minutes', 'integer', (c) => c.notNull())
    .addColumn('next_run_at', 'bigint', (c) => c.notNull())
    .execute();
}
