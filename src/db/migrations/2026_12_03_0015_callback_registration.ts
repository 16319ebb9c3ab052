import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // The last attempt to register the account's callback listener with its carrier, and what it said:
  // a refusal shows on the account instead of being swallowed (the account polls meanwhile).
  await db.schema.alterTable('carrier_accounts').addColumn('callback_registered_at', 'bigint').execute();
  await db.schema.alterTable('carrier_accounts').addColumn('callback_registration', 'text').execute();
}
