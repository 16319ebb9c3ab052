import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // The inventory is listed a page at a time in id order within a tenant (GET /devices, the exports,
  // ADR 0059). Without this index each page searched the tenant's lines by (tenant_id, iccid) and sorted
  // them all: an export of 1,000,000 lines read the tenant a thousand times over.
  await db.schema.createIndex('devices_tenant_id').on('devices').columns(['tenant_id', 'id']).execute();
}
