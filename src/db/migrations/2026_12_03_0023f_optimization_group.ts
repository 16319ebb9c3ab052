import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // A mobility line's optimisation group (original §3.7: the carrier plan CSV's OptimizationGroup),
  // set with its carrier rate plan; null until a plan change names one.
  await db.schema.alterTable('devices').addColumn('optimization_group', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('optimization_group').execute();
}
