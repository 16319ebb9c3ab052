import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

const statusColumns = {
  queued: 'queued_count',
  in_progress: 'in_progress_count',
  waiting: 'waiting_count',
  succeeded: 'succeeded_count',
  failed: 'failed_count',
  cancelled: 'cancelled_count',
} as const;

export async function up(db: AnyDb): Promise<void> {
  // A bulk change's counts kept with its rows, in the transactions that move them: reading a change's
  // progress costs the same at 10 rows and at 1,000,000 (issue 14).
  for (const column of Object.values(statusColumns)) {
    await db.schema
      .alterTable('bulk_changes')
      .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  for (const [status, column] of Object.entries(statusColumns)) {
    await sql`update bulk_changes set ${sql.ref(column)} = (
      select count(*) from device_changes
      where device_changes.bulk_change_id = bulk_changes.id and device_changes.status = ${status}
    )`.execute(db);
  }
  // Why the engine gave up on a bulk change (its job failed for good), for the API and the portal.
  await db.schema.alterTable('bulk_changes').addColumn('failure_reason', 'text').execute();
  // Reading the carrier after a crash or an unclear answer has its own budget, apart from the row's
  // sending attempts; and a row that keeps taking the worker down with it is counted, to be set apart.
  await db.schema
    .alterTable('device_changes')
    .addColumn('reconciliations', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('device_changes')
    .addColumn('crashes', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
