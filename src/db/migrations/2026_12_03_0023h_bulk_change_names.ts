import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // The name its creator gave a bulk change; null when none was given, and the API and portal show one
  // made from what it does ("Deactivate 500 lines on Jasper (demo)", ADR 0054).
  await db.schema.alterTable('bulk_changes').addColumn('name', 'text').execute();
}
