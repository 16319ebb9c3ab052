import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { createTestDatabase, testDialects } from '../../test/support/databases.ts';
import { createMigrator } from './migrator.ts';

for (const dialect of testDialects) {
  describe(`migrations on ${dialect}`, () => {
    it('creates every table and is idempotent', async () => {
      const handle = await createTestDatabase(dialect);
      try {
        const again = await createMigrator(handle.db, handle.capabilities).migrateToLatest();
        assert.equal(again.error, undefined);
        assert.deepEqual(again.results, []);
        const tables = (await handle.db.introspection.getTables()).map((t) => t.name).sort();
        for (const table of [
          'api_keys',
          'audit_entries',
          'bulk_changes',
          'carrier_accounts',
          'carrier_rate_plans',
        ]) {
          assert.ok(tables.includes(table), `${table} exists`);
        }
        for (const table of ['device_changes', 'devices', 'jobs', 'tenants'])
          assert.ok(tables.includes(table));
      } finally {
        await handle.drop();
      }
    });

    it('rolls back a migration that fails halfway, leaving no partial schema', async () => {
      const handle = await createTestDatabase(dialect, false);
      try {
        const broken = {
          // biome-ignore lint/suspicious/noExplicitAny: a migration sees an untyped schema.
          async up(db: Kysely<any>) {
            await db.schema.createTable('half_made').addColumn('id', 'text').execute();
            await sql`this is not sql`.execute(db);
          },
        };
        const result = await createMigrator(handle.db, handle.capabilities, {
          '2099_01_01_0000_broken': broken,
        }).migrateToLatest();
        assert.ok(result.error, 'the broken migration reports an error');
        const tables = (await handle.db.introspection.getTables()).map((t) => t.name);
        assert.ok(!tables.includes('half_made'), 'the half-made table was rolled back');
      } finally {
        await handle.drop();
      }
    });
  });
}
