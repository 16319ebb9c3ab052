import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // When each account's inventory was last read from its carrier, and what that found.
  await db.schema.alterTable('carrier_accounts').addColumn('inventory_synced_at', 'bigint').execute();
  await db.schema.alterTable('carrier_accounts').addColumn('inventory_sync_result', 'text').execute();
  // The bulk change that retried this one's failed rows: a bulk change is retried once.
  await db.schema
    .alterTable('bulk_changes')
    .addColumn('retried_as_id', 'text', (c) => c.references('bulk_changes.id'))
    .execute();
  // A line is in at most one unfinished change: the database enforces it, whatever races intake.
  await db.schema
    .createIndex('device_changes_open_line')
    .on('device_changes')
    .column('device_id')
    .unique()
    .where(sql<boolean>`status in ('queued', 'in_progress', 'waiting')`)
    .execute();
  // The engine looks for due rows of one step at a time.
  await db.schema
    .createIndex('device_changes_bulk_step')
    .on('device_changes')
    .columns(['bulk_change_id', 'status', 'step', 'next_check_at'])
    .execute();
  // Carrier callbacks find their rows by the request id the carrier gave.
  await db.schema
    .createIndex('device_changes_carrier_request')
    .on('device_changes')
    .columns(['carrier_request_id', 'iccid'])
    .execute();
  // Asynchronous results as the carrier sent them (callbacks), kept apart from rows so that one arriving
  // while its row is busy is never lost; a repeated one is the same row.
  await db.schema
    .createTable('carrier_results')
    .addColumn('carrier_account_id', 'text', (c) => c.notNull().references('carrier_accounts.id'))
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('iccid', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('carrier_results_pk', ['carrier_account_id', 'request_id', 'iccid'])
    .execute();
}
