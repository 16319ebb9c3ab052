/**
 * The ingest bound: the same rows the intake writes (one `device_changes` row per CSV line, same columns,
 * same schema and indexes, same pragmas, one transaction), inserted by a bare `node:sqlite` loop over a
 * prepared statement. No CSV parsing, no validation, no inventory lookups.
 *
 * `node bench/lib/bare-insert.ts <dir> <rows>` prints `{rows, elapsedMs, rowsPerSecond, cpuMs}` as JSON.
 */
import path from 'node:path';
import { openSqliteFile } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { openSqlite } from '../../src/db/sqlite-dialect.ts';
import { newId } from '../../src/shared/ids.ts';
import { benchIccids } from './stack.ts';

const [dir, rowsArgument] = process.argv.slice(2);
const rows = Number(rowsArgument);
const file = path.join(dir, 'bare.db');

// The schema comes from the real migrations, so the indexes maintained are the same.
const handle = openSqliteFile(file);
await migrateToLatest(handle.db, handle.capabilities);
await handle.close();

const database = openSqlite(file);
const now = Date.now();
const tenantId = newId(now);
const accountId = newId(now);
const bulkChangeId = newId(now);
database.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(tenantId, 'bench', now);
database
  .prepare(
    `INSERT INTO carrier_accounts (id, tenant_id, name, carrier, base_url, credentials_encrypted, write_enabled, settings, created_at, updated_at)
     VALUES (?, ?, 'bench', 'jasper', 'http://127.0.0.1:1', 'x', 1, '{}', ?, ?)`,
  )
  .run(accountId, tenantId, now, now);
database
  .prepare(
    `INSERT INTO bulk_changes (id, tenant_id, carrier_account_id, change_type, status, options, created_by, created_at, total_count, updated_at)
     VALUES (?, ?, ?, 'status_update', 'queued', '{}', 'bench', ?, ?, ?)`,
  )
  .run(bulkChangeId, tenantId, accountId, now, rows, now);

const iccids = benchIccids(rows, '8901888');
const deviceIds = iccids.map(() => newId(now));
const request = JSON.stringify({ targetStatus: 'active' });
const insert = database.prepare(
  `INSERT INTO device_changes (id, tenant_id, bulk_change_id, row_number, device_id, iccid, imei, msisdn, eid, request, status, step, attempts, updated_at)
   VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, 'queued', 'update_status', 0, ?)`,
);

const cpuBefore = process.cpuUsage();
const started = performance.now();
database.exec('BEGIN');
for (let index = 0; index < rows; index++) {
  insert.run(newId(now), tenantId, bulkChangeId, index + 1, deviceIds[index], iccids[index], request, now);
}
database.exec('COMMIT');
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
database.close();

process.stdout.write(
  `${JSON.stringify({
    rows,
    elapsedMs: Math.round(elapsedMs),
    rowsPerSecond: Math.round((rows / elapsedMs) * 1000),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  })}\n`,
);
