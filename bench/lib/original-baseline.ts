/**
 * The engine scenario's baseline: Jasper status updates processed the original system's way
 * (reference/original-system.md §4.3, §5.1.1): load a page of ≤100 unprocessed change rows, then for
 * each row, one at a time: PUT the status, write the log entry, mark the change row and the device
 * (each its own statement, as the original's stored procedures), then the next page. The original's 5 s
 * SQS re-queue between pages is left out (it alone would cap the original at 20 rows/s): the baseline
 * is as fast as "pages of 100, one request at a time" can be on this machine.
 *
 * `node bench/lib/original-baseline.ts <dir> <simulatorUrl> <rows> <capSeconds> <iccidPrefix>` prints
 * `{rows, processed, pages, elapsedMs, rowsPerSecond, statuses, cpuMs}` as JSON.
 */
import path from 'node:path';
import { Pool } from 'undici';
import { openSqlite } from '../../src/db/sqlite-dialect.ts';
import { benchIccids } from './stack.ts';

const [dir, simulatorUrl, rowsArgument, capArgument, prefix] = process.argv.slice(2);
const rows = Number(rowsArgument);
const capMs = Number(capArgument) * 1000;
const pageSize = 100;

const database = openSqlite(path.join(dir, 'original.db'));
database.exec(`
  CREATE TABLE device (id INTEGER PRIMARY KEY, iccid TEXT NOT NULL UNIQUE, status TEXT, modified_date INTEGER);
  CREATE TABLE device_change (
    id INTEGER PRIMARY KEY, bulk_change_id INTEGER NOT NULL, device_id INTEGER, iccid TEXT NOT NULL,
    change_request TEXT NOT NULL, status TEXT NOT NULL, is_processed INTEGER NOT NULL DEFAULT 0,
    has_errors INTEGER NOT NULL DEFAULT 0, status_details TEXT, processed_date INTEGER);
  CREATE INDEX device_change_unprocessed ON device_change (bulk_change_id, is_processed, id);
  CREATE TABLE device_bulk_change_log (
    id INTEGER PRIMARY KEY, change_id INTEGER NOT NULL, description TEXT, request_text TEXT,
    response_text TEXT, has_errors INTEGER, response_status TEXT, process_by TEXT, processed_date INTEGER);
  CREATE INDEX log_change ON device_bulk_change_log (change_id);
`);
const iccids = benchIccids(rows, prefix);
const request = JSON.stringify({ UpdateStatus: 'ACTIVATED' });
database.exec('BEGIN');
const addDevice = database.prepare(
  "INSERT INTO device (id, iccid, status) VALUES (?, ?, 'ACTIVATION_READY')",
);
const addChange = database.prepare(
  "INSERT INTO device_change (id, bulk_change_id, device_id, iccid, change_request, status) VALUES (?, 1, ?, ?, ?, 'NEW')",
);
iccids.forEach((iccid, index) => {
  addDevice.run(index + 1, iccid);
  addChange.run(index + 1, index + 1, iccid, request);
});
database.exec('COMMIT');

const loadPage = database.prepare(
  'SELECT id, device_id, iccid, change_request FROM device_change WHERE bulk_change_id = 1 AND is_processed = 0 ORDER BY id LIMIT ?',
);
const addLog = database.prepare(
  `INSERT INTO device_bulk_change_log (change_id, description, request_text, response_text, has_errors, response_status, process_by, processed_date)
   VALUES (?, 'Update Jasper Status: Jasper API', ?, ?, ?, ?, 'AltaworxDeviceBulkChange', ?)`,
);
const markChange = database.prepare(
  'UPDATE device_change SET status = ?, is_processed = 1, has_errors = ?, status_details = ?, processed_date = ? WHERE id = ?',
);
const markDevice = database.prepare('UPDATE device SET status = ?, modified_date = ? WHERE id = ?');

const pool = new Pool(simulatorUrl, { connections: 1, pipelining: 1 });
const headers = {
  authorization: `Basic ${Buffer.from('demo:demo-api-key').toString('base64')}`,
  'content-type': 'application/json',
};
const statuses: Record<number, number> = {};
let processed = 0;
let pages = 0;

const cpuBefore = process.cpuUsage();
const started = performance.now();
for (;;) {
  if (performance.now() - started > capMs) break;
  const page = loadPage.all(pageSize) as Array<{
    id: number;
    device_id: number;
    iccid: string;
    change_request: string;
  }>;
  if (page.length === 0) break;
  pages += 1;
  for (const change of page) {
    const { UpdateStatus } = JSON.parse(change.change_request) as { UpdateStatus: string };
    const body = JSON.stringify({ status: UpdateStatus });
    const response = await pool.request({
      path: `/rws/api/v1/devices/${change.iccid}`,
      method: 'PUT',
      headers,
      body,
    });
    const text = await response.body.text();
    statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    // Success = 2xx and the response names the ICCID (original-system.md §5.1.1 b).
    const ok = response.statusCode < 300 && (JSON.parse(text) as { iccid?: string }).iccid === change.iccid;
    const now = Date.now();
    addLog.run(
      change.id,
      `PUT ${change.iccid}\n${body}`,
      text,
      ok ? 0 : 1,
      ok ? 'PROCESSED' : 'API_FAILED',
      now,
    );
    markChange.run(ok ? 'PROCESSED' : 'API_FAILED', ok ? 0 : 1, ok ? null : text, now, change.id);
    if (ok) markDevice.run(UpdateStatus, now, change.device_id);
    processed += 1;
  }
}
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
await pool.close();
database.close();

process.stdout.write(
  `${JSON.stringify({
    rows,
    processed,
    pages,
    elapsedMs: Math.round(elapsedMs),
    rowsPerSecond: Math.round((processed / elapsedMs) * 1000),
    statuses,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  })}\n`,
);
