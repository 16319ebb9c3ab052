import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // Canary waves (docs/guardrails.md): the plan and where the change is in it (JSON), and the last row
  // number the current wave may send, read by the statement that claims rows (null: no wave gate).
  await db.schema.alterTable('bulk_changes').addColumn('waves', 'text').execute();
  await db.schema.alterTable('bulk_changes').addColumn('wave_to_row', 'bigint').execute();
}
