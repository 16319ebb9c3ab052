import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // A tenant's guardrail policy (docs/guardrails.md): destructive changes above N lines wait for a second
  // person's approval; at most N destructive line changes an hour. Null: off (no row: both off).
  await db.schema
    .createTable('tenant_approval_policies')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('approval_above_lines', 'bigint')
    .addColumn('destructive_lines_per_hour', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // What a destructive bulk change does ("deactivate"), null when it is not destructive; and its
  // approval (JSON: why it was held, and who decided, when, with what note).
  await db.schema.alterTable('bulk_changes').addColumn('destructive_action', 'text').execute();
  await db.schema.alterTable('bulk_changes').addColumn('approval', 'text').execute();
  // When a destructive change's row was first claimed to be sent: the blast-radius cap counts these,
  // per tenant, over the last hour, in the statement's transaction that claims more.
  await db.schema.alterTable('device_changes').addColumn('destructive_sent_at', 'bigint').execute();
  await db.schema
    .createIndex('device_changes_destructive_sent')
    .on('device_changes')
    .columns(['tenant_id', 'destructive_sent_at'])
    .execute();
}
