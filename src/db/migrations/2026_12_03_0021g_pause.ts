import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // A paused bulk change says why (manual, circuit_open, canary_halt), who paused it and when, and the
  // figures behind it (the wave's, or when the circuit lets calls through again), for the API and portal.
  await db.schema.alterTable('bulk_changes').addColumn('pause_reason', 'text').execute();
  await db.schema.alterTable('bulk_changes').addColumn('paused_by', 'text').execute();
  await db.schema.alterTable('bulk_changes').addColumn('paused_at', 'bigint').execute();
  await db.schema.alterTable('bulk_changes').addColumn('pause_detail', 'text').execute();
}
