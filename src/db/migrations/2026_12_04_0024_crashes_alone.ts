import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // A row is set apart only for deaths of workers that held it alone (ADR 0057): whether its current
  // claim is the engine's one-row, isolating claim, and how many workers died holding it so. Deaths
  // while it was held in a chunk with other rows stay in `crashes`, which says nothing about the row.
  await db.schema
    .alterTable('device_changes')
    .addColumn('held_alone', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('device_changes')
    .addColumn('crashes_alone', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
