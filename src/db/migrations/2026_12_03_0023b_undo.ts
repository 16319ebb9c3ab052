import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // An undo is an ordinary bulk change that names the one it reverses (ADR 0048); the reversed one
  // names its undo, set once under a condition, so a bulk change is undone once whatever races.
  await db.schema
    .alterTable('bulk_changes')
    .addColumn('undo_of', 'text', (c) => c.references('bulk_changes.id'))
    .execute();
  await db.schema
    .alterTable('bulk_changes')
    .addColumn('undone_as_id', 'text', (c) => c.references('bulk_changes.id'))
    .execute();
  // An undo reads the line history its rows wrote, row by row: by the row, not by the line.
  await db.schema
    .createIndex('device_history_row')
    .on('device_history')
    .columns(['device_change_id', 'id'])
    .execute();
}
