import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

/** When each account's inventory was last read from its carrier, and what that found. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('carrier_accounts').addColumn('inventory_synced_at', 'bigint').execute();
  await db.schema.alterTable('carrier_accounts').addColumn('inventory_sync_result', 'text').execute();
}
