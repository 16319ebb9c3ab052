import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type DatabaseHandle, openPostgres, openSqliteFile } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';

export interface TestDatabase extends DatabaseHandle {
  /** Closes and removes the database. */
  drop(): Promise<void>;
}

/** The dialects this run can test: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const testDialects: Array<'sqlite' | 'postgres'> = process.env.TEST_DATABASE_URL
  ? ['sqlite', 'postgres']
  : ['sqlite'];

export async function createTestDatabase(
  dialect: 'sqlite' | 'postgres',
  migrate = true,
): Promise<TestDatabase> {
  const handle = dialect === 'sqlite' ? createSqlite() : await createPostgres();
  if (migrate) await migrateToLatest(handle.db, handle.capabilities);
  return handle;
}

function createSqlite(): TestDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-test-'));
  const handle = openSqliteFile(path.join(dir, 'test.db'));
  return {
    ...handle,
    async drop() {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A new database's name: after the one TEST_DATABASE_URL names when that is a test database
 * (`bulkchange_t…`), so runs that share a server each create and drop only their own.
 */
function testDatabaseName(adminUrl: string): string {
  const named = decodeURIComponent(new URL(adminUrl).pathname.slice(1));
  const prefix = /^bulkchange_t\w*$/.test(named) ? named : 'bulkchange_t';
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

async function createPostgres(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = testDatabaseName(adminUrl);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openPostgres(url.toString(), 5);
  return {
    ...handle,
    async drop() {
      await handle.close();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The URL of a fresh, empty PostgreSQL database for a child process; dropped by the returned function. */
export async function createPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = testDatabaseName(adminUrl);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
