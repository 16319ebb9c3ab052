import { type Kysely, sql } from 'kysely';

// Frozen in time: a migration never imports application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, capabilities: { serialColumns: boolean }): Promise<void> {
  const serial = (table: ReturnType<AnyDb['schema']['createTable']>) =>
    table.addColumn('id', capabilities.serialColumns ? 'bigserial' : 'integer', (c) =>
      capabilities.serialColumns ? c.primaryKey() : c.primaryKey().autoIncrement(),
    );

  // A batch call's entry belongs to every row it carried (and a callback's to every row it woke):
  // one link per row, written with the entry, so each row's timeline finds it (issue 17).
  await db.schema
    .createTable('audit_entry_rows')
    .addColumn('audit_entry_id', 'bigint', (c) => c.notNull())
    .addColumn('device_change_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_entry_rows_pk', ['audit_entry_id', 'device_change_id'])
    .execute();
  await db.schema
    .createIndex('audit_entry_rows_change')
    .on('audit_entry_rows')
    .columns(['device_change_id', 'audit_entry_id'])
    .execute();

  // A stored callback names its audit entry: the row that takes the result later links itself to it.
  await db.schema.alterTable('carrier_results').addColumn('audit_entry_id', 'bigint').execute();

  // The tamper-evident chain: entries are appended unchained; the sealer gives each, per tenant, its
  // place (`seq`) and `hash = sha256(previous hash, entry)` once, and records when.
  await db.schema.alterTable('audit_entries').addColumn('seq', 'bigint').execute();
  await db.schema.alterTable('audit_entries').addColumn('hash', 'text').execute();
  await db.schema.alterTable('audit_entries').addColumn('sealed_at', 'bigint').execute();
  await db.schema
    .createIndex('audit_entries_chain')
    .on('audit_entries')
    .columns(['tenant_id', 'seq'])
    .unique()
    .where(sql.ref('seq'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('audit_entries_unsealed')
    .on('audit_entries')
    .columns(['tenant_id', 'id'])
    .where(sql.ref('seq'), 'is', null)
    .execute();
  await db.schema
    .createIndex('audit_entries_tenant_at')
    .on('audit_entries')
    .columns(['tenant_id', 'at'])
    .execute();
  // Each tenant's chain: its head (last sealed) and its origin (where it starts after a retention cut).
  await db.schema
    .createTable('audit_chains')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('head_seq', 'bigint', (c) => c.notNull())
    .addColumn('head_hash', 'text', (c) => c.notNull())
    .addColumn('origin_seq', 'bigint', (c) => c.notNull())
    .addColumn('origin_hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // The outbox of tenant events: written in the transaction that changes a bulk change's status, read
  // by the dispatcher (webhooks, e-mail) and the tenant's live feed.
  await serial(db.schema.createTable('notification_events'))
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('bulk_change_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('dispatched_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('notification_events_tenant')
    .on('notification_events')
    .columns(['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('notification_events_undispatched')
    .on('notification_events')
    .columns(['tenant_id', 'id'])
    .where(sql.ref('dispatched_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('notification_events_created')
    .on('notification_events')
    .column('created_at')
    .execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_tenant')
    .on('webhook_endpoints')
    .columns(['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('first_attempt_at', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // An event reaches an endpoint through one delivery, however often it is dispatched.
  await db.schema
    .createIndex('webhook_deliveries_event')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'event_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_created')
    .on('webhook_deliveries')
    .column('created_at')
    .execute();

  await serial(db.schema.createTable('webhook_attempts'))
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_attempts_delivery')
    .on('webhook_attempts')
    .columns(['delivery_id', 'id'])
    .execute();

  // Who is told by e-mail when a bulk change ends: the tenant's addresses, and the change's own.
  await db.schema
    .createTable('tenant_notification_settings')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('emails', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('bulk_changes').addColumn('notify_emails', 'text').execute();
}
