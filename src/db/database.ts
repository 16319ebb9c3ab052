import path from 'node:path';
import { Kysely, PostgresDialect, type RawBuilder, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { ensurePrivateDirectory, ensurePrivateFile, restrictIfPresent } from '../shared/private-files.ts';
import { type Notifications, PostgresNotifications } from './notifications.ts';
import type { Database } from './schema.ts';
import { createNodeSqliteDialect, openSqlite } from './sqlite-dialect.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything a repository can run a query on: the database or a transaction in progress. */
export type Executor = Kysely<Database>;

/**
 * What the database underneath can do, for the few places that differ. Code asks for a capability,
 * never for a product name.
 */
export interface Capabilities {
  /**
   * `SELECT … FOR UPDATE [SKIP LOCKED]`: several processes claim rows at once (PostgreSQL). SQLite has
   * a single writer, so a claiming statement is atomic there and needs no lock (nor accepts the clause).
   */
  rowLocks: boolean;
  /** Auto-increment ids are a `bigserial` column (PostgreSQL) rather than `INTEGER … AUTOINCREMENT`. */
  serialColumns: boolean;
  /**
   * A JSON array of objects as a table `alias(columns…)`, to update many rows, each its own way, in one
   * statement with one parameter (no per-row statements, no limit on bound parameters).
   */
  jsonRecords(json: string, alias: string, columns: Record<string, JsonColumnType>): RawBuilder<unknown>;
  /**
   * Several processes of a deployment share the database, so per-account guards (limiters, circuits,
   * login sessions) are kept in it, for all of them (PostgreSQL, ADR 0014). The embedded database has
   * one process, which keeps them in memory.
   */
  sharedGuards: boolean;
  /**
   * `LISTEN` / `NOTIFY`: a commit can wake listeners in other processes at once (`notifications` on
   * the handle). Without it, other processes find the change on their next poll.
   */
  notify: boolean;
}

/** The SQL type of a column read out of a JSON record. */
export type JsonColumnType = 'text' | 'bigint' | 'integer';

const postgresCapabilities: Capabilities = {
  rowLocks: true,
  serialColumns: true,
  sharedGuards: true,
  notify: true,
  jsonRecords: (json, alias, columns) =>
    sql`jsonb_to_recordset(${json}::jsonb) as ${sql.id(alias)}(${sql.raw(
      Object.entries(columns)
        .map(([name, type]) => `"${name}" ${type}`)
        .join(', '),
    )})`,
};

const sqliteCapabilities: Capabilities = {
  rowLocks: false,
  serialColumns: false,
  sharedGuards: false,
  notify: false,
  // json_extract gives SQLite's own types back (text, integer, null), which is what the columns hold.
  jsonRecords: (json, alias, columns) =>
    sql`(select ${sql.join(
      Object.keys(columns).map((name) => sql`json_extract(value, ${`$.${name}`}) as ${sql.id(name)}`),
    )} from json_each(${json})) as ${sql.id(alias)}`,
};

export interface DatabaseHandle {
  db: Db;
  capabilities: Capabilities;
  /** Where the data lives, for logs and `/readyz` (the password is never included). */
  location: string;
  /** `LISTEN` / `NOTIFY` across processes, where the database has them (`capabilities.notify`). */
  notifications: Notifications | null;
  /**
   * `connections` of the database's own, for short statements that must not queue behind the main
   * pool's (the shared guards' bookkeeping, on the path of every carrier call), closed with the
   * handle. The embedded database has one connection: the main `db` is returned.
   */
  reserved(connections: number): Db;
  close(): Promise<void>;
}

const INT8_OID = 20;

/** Epoch milliseconds and counts fit a JS number; pg would otherwise hand bigint columns back as strings. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const postgresPool = (connectionString: string, maxConnections: number): Db => {
  const pool = new pg.Pool({ connectionString, max: maxConnections, types: pgTypes });
  // An idle connection the server drops (restart, failover) is an 'error' on the pool; pg removes the
  // client itself, and the next query opens a new one. Unheard, it would crash the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
};

export function openPostgres(connectionString: string, maxConnections = 10): DatabaseHandle {
  const db = postgresPool(connectionString, maxConnections);
  const url = new URL(connectionString);
  const notifications = new PostgresNotifications(connectionString);
  const reserved: Db[] = [];
  return {
    db,
    capabilities: postgresCapabilities,
    location: `postgres://${url.host}${url.pathname}`,
    notifications,
    reserved: (connections) => {
      const pool = postgresPool(connectionString, connections);
      reserved.push(pool);
      return pool;
    },
    close: async () => {
      await notifications.close();
      for (const pool of reserved) await pool.destroy();
      await db.destroy();
    },
  };
}

export function openSqliteFile(file: string): DatabaseHandle {
  if (file !== ':memory:') {
    ensurePrivateDirectory(path.dirname(file));
    // Made owner-only before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
    ensurePrivateFile(file);
    restrictIfPresent(`${file}-wal`);
    restrictIfPresent(`${file}-shm`);
  }
  const db = new Kysely<Database>({ dialect: createNodeSqliteDialect(openSqlite(file)) });
  return {
    db,
    capabilities: sqliteCapabilities,
    location: file,
    notifications: null,
    reserved: () => db,
    close: () => db.destroy(),
  };
}

export function openDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL: connections in this process's pool (the LISTEN connection comes on top). */
  poolSize?: number;
}): DatabaseHandle {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize)
    : openSqliteFile(path.join(options.dataDir, 'bulkchange.db'));
}

/** Runs `work` in a transaction, or inside the caller's when it already is one. */
export function inTransaction<T>(db: Executor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Tx) : db.transaction().execute(work);
}

/** Whether a database error is a unique-constraint violation, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errcode, message } = error as { code?: unknown; errcode?: unknown; message?: unknown };
  return (
    code === '23505' || // PostgreSQL unique_violation
    errcode === 2067 || // SQLITE_CONSTRAINT_UNIQUE
    (typeof message === 'string' && message.includes('UNIQUE constraint failed'))
  );
}

/** Whether the database answers (readiness). */
export async function ping(db: Executor): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
