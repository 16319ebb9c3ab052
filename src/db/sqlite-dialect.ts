import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';

type SqliteValue = null | number | bigint | string | Uint8Array;

/** node:sqlite takes no booleans or undefined; the database layer stores booleans as 0/1. */
function toSqliteValue(value: unknown): SqliteValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as SqliteValue;
}

const toParameters = (parameters: ReadonlyArray<unknown>) => parameters.map(toSqliteValue);

function wrapStatement(statement: StatementSync): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...toParameters(parameters)),
    run: (parameters) => statement.run(...toParameters(parameters)),
    iterate: (parameters) => statement.iterate(...toParameters(parameters)),
  };
}

/**
 * Adapts Node's built-in `DatabaseSync` to Kysely's SQLite driver. Prepared statements are cached:
 * the engine issues the same few statements many thousands of times.
 */
export function createNodeSqliteDialect(database: DatabaseSync): SqliteDialect {
  const statements = new Map<string, SqliteStatement>();
  const adapter: SqliteDatabase = {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = wrapStatement(database.prepare(sql));
        if (statements.size > 1000) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
  };
  return new SqliteDialect({ database: adapter });
}

/** Opens the embedded database with the settings a busy single-file service needs. */
export function openSqlite(file: string): DatabaseSync {
  const database = new DatabaseSync(file);
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA busy_timeout = 5000');
  database.exec('PRAGMA foreign_keys = ON');
  database.exec('PRAGMA cache_size = -32768');
  return database;
}
