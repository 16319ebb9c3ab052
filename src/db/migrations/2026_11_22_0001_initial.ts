import { type Kysely, sql } from 'kysely';

// Frozen in time: a migration never imports application code.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, capabilities: { serialColumns: boolean }): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('carrier_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('carrier', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    .addColumn('credentials_encrypted', 'text', (c) => c.notNull())
    .addColumn('write_enabled', 'integer', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('carrier_accounts_tenant_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('carrier_account_id', 'text', (c) => c.notNull().references('carrier_accounts.id'))
    .addColumn('iccid', 'text')
    .addColumn('imei', 'text')
    .addColumn('msisdn', 'text')
    .addColumn('eid', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('carrier_status', 'text')
    .addColumn('carrier_rate_plan', 'text')
    .addColumn('communication_plan', 'text')
    .addColumn('customer_rate_plan_id', 'text')
    .addColumn('customer_pool_id', 'text')
    .addColumn('billing_customer_id', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('username', 'text')
    .addColumn('cost_center1', 'text')
    .addColumn('cost_center2', 'text')
    .addColumn('cost_center3', 'text')
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('devices_account_iccid')
    .on('devices')
    .columns(['carrier_account_id', 'iccid'])
    .unique()
    .execute();
  await db.schema
    .createIndex('devices_account_msisdn')
    .on('devices')
    .columns(['carrier_account_id', 'msisdn'])
    .execute();
  await db.schema
    .createIndex('devices_account_eid')
    .on('devices')
    .columns(['carrier_account_id', 'eid'])
    .execute();
  await db.schema.createIndex('devices_tenant_iccid').on('devices').columns(['tenant_id', 'iccid']).execute();

  await db.schema
    .createTable('carrier_rate_plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('carrier_account_id', 'text', (c) => c.notNull().references('carrier_accounts.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('data_mb', 'integer')
    .addColumn('communication_plan', 'text')
    .addUniqueConstraint('carrier_rate_plans_account_code', ['carrier_account_id', 'code'])
    .execute();

  await db.schema
    .createTable('bulk_changes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('carrier_account_id', 'text', (c) => c.notNull().references('carrier_accounts.id'))
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('scheduled_for', 'bigint')
    .addColumn('started_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('cancel_requested_at', 'bigint')
    .addColumn('parent_id', 'text', (c) => c.references('bulk_changes.id'))
    .addColumn('linked_id', 'text', (c) => c.references('bulk_changes.id'))
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .addColumn('total_count', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('bulk_changes_tenant_id')
    .on('bulk_changes')
    .columns(['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('bulk_changes_idempotency')
    .on('bulk_changes')
    .columns(['tenant_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();

  await db.schema
    .createTable('device_changes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('bulk_change_id', 'text', (c) => c.notNull().references('bulk_changes.id'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('iccid', 'text')
    .addColumn('imei', 'text')
    .addColumn('msisdn', 'text')
    .addColumn('eid', 'text')
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempt_id', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('next_check_at', 'bigint')
    .addColumn('waiting_since', 'bigint')
    .addColumn('carrier_request_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('error_carrier_code', 'text')
    .addColumn('result', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('device_changes_bulk_row')
    .on('device_changes')
    .columns(['bulk_change_id', 'row_number'])
    .unique()
    .execute();
  await db.schema
    .createIndex('device_changes_bulk_status')
    .on('device_changes')
    .columns(['bulk_change_id', 'status', 'row_number'])
    .execute();
  await db.schema
    .createIndex('device_changes_bulk_wake')
    .on('device_changes')
    .columns(['bulk_change_id', 'status', 'next_check_at'])
    .execute();
  await db.schema.createIndex('device_changes_device').on('device_changes').columns(['device_id']).execute();

  await db.schema
    .createTable('audit_entries')
    .addColumn('id', capabilities.serialColumns ? 'bigserial' : 'integer', (c) =>
      capabilities.serialColumns ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('bulk_change_id', 'text')
    .addColumn('device_change_id', 'text')
    .addColumn('carrier_account_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('request', 'text')
    .addColumn('response', 'text')
    .addColumn('http_status', 'integer')
    .addColumn('duration_ms', 'integer')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_entries_bulk')
    .on('audit_entries')
    .columns(['bulk_change_id', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_entries_change')
    .on('audit_entries')
    .columns(['device_change_id', 'id'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('key', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema
    .createIndex('jobs_pending_key')
    .on('jobs')
    .column('key')
    .unique()
    .where(sql.ref('state'), '=', 'pending')
    .execute();
}
