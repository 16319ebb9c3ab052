/**
 * Where the ingest's memory goes: runs the streaming intake in this process, on the same 1,000,000-row
 * CSV and inventory, and reports the live heap (after a full GC) as the rows go through.
 *
 * `node --expose-gc bench/lib/diagnose-ingest-memory.ts [rows]` writes bench/results/profiles/ingest-memory.txt
 * (a diagnostic for docs/performance.md, not part of `npm run bench`).
 */

import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTenant } from '../../src/accounts/api-keys.ts';
import type { CarrierAccountView } from '../../src/accounts/carrier-accounts.ts';
import { bulkChangesRepository } from '../../src/bulk-changes/bulk-changes-repository.ts';
import { openCsvRows } from '../../src/bulk-changes/csv-input.ts';
import { IntakeRun } from '../../src/bulk-changes/intake-run.ts';
import type { CarrierAdapter } from '../../src/carriers/carrier.ts';
import { OutboundAddressPolicy } from '../../src/carriers/http/address-policy.ts';
import { outboundAgent } from '../../src/carriers/http/agent.ts';
import { carrierHttpClients } from '../../src/carriers/http/factory.ts';
import { jasperAdapter } from '../../src/carriers/jasper/adapter.ts';
import { LocalGuards } from '../../src/carriers/limits/local-guards.ts';
import { utcQuotaCalendar } from '../../src/carriers/line-quotas.ts';
import type { Flow } from '../../src/core/flow.ts';
import { openSqliteFile } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { devicesRepository } from '../../src/devices/devices-repository.ts';
import { newId } from '../../src/shared/ids.ts';
import { benchIccids, writeStatusCsv } from './stack.ts';

const rows = Number(process.argv[2]) || 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-memory-'));
const stages: Array<{ stage: string; heapUsedMb: number; deltaMb: number; rssMb: number }> = [];
let previous = 0;
const measure = (stage: string) => {
  gc();
  gc();
  const memory = process.memoryUsage();
  const heapUsedMb = Math.round(memory.heapUsed / 2 ** 20);
  stages.push({ stage, heapUsedMb, deltaMb: heapUsedMb - previous, rssMb: Math.round(memory.rss / 2 ** 20) });
  previous = heapUsedMb;
  process.stderr.write(`${stage}: heap ${heapUsedMb} MB\n`);
};

try {
  const handle = openSqliteFile(path.join(dir, 'bulkchange.db'));
  await migrateToLatest(handle.db, handle.capabilities);
  const tenantId = await ensureTenant(handle.db, 'acme');
  const now = Date.now();
  const accountId = newId(now);
  await handle.db
    .insertInto('carrier_accounts')
    .values({
      id: accountId,
      tenant_id: tenantId,
      name: 'bench',
      carrier: 'jasper',
      base_url: 'http://127.0.0.1:1',
      credentials_encrypted: 'x',
      write_enabled: 1,
      settings: '{}',
      created_at: now,
      updated_at: now,
    } as never)
    .execute();
  let iccids: string[] | undefined = benchIccids(rows, '8901777');
  await handle.db.transaction().execute((tx) =>
    devicesRepository(tx).insertMany(
      iccids!.map((iccid) => ({
        id: newId(now),
        tenantId: tenantId,
        carrierAccountId: accountId,
        iccid,
        status: 'activation_ready',
        carrierStatus: 'ACTIVATION_READY',
        carrierRatePlan: 'IoT Basic 1MB',
        communicationPlan: 'CP_Basic_ON',
      })),
      now,
    ),
  );
  const csv = path.join(dir, 'status-update.csv');
  await writeStatusCsv(csv, iccids, 'active');
  iccids = undefined;
  measure('start (inventory in the database, nothing parsed)');

  // The intake as the service runs it: the CSV streamed in batches through IntakeRun, written in one
  // transaction. The live heap is sampled (after a full GC) every 50 batches.
  const guards = new LocalGuards();
  // Intake only: no call is made, so the agent keeps the default policy.
  const agent = outboundAgent(new OutboundAddressPolicy());
  const adapter = jasperAdapter({ http: carrierHttpClients(guards, agent), guards }) as CarrierAdapter;
  const flow = adapter.flows.status_update as Flow<unknown, unknown, string>;
  const account = {
    id: accountId,
    name: 'bench',
    carrier: 'jasper',
    settings: {},
  } as unknown as CarrierAccountView;
  const csvRows = await openCsvRows(createReadStream(csv), 'status_update');
  const run = new IntakeRun(
    {
      db: handle.db,
      tenantId,
      account,
      adapter,
      flow,
      changeType: 'status_update',
      quotaCalendar: utcQuotaCalendar,
      defaults: {},
      skipAlreadyInTarget: false,
      roundTrip: false,
      badColumns: [],
    },
    { requestFields: [], requestIssues: [], keepDryRun: false },
  );
  let batches = 0;
  await bulkChangesRepository(handle.db).insertBulkChange({
    id: accountId,
    tenantId,
    carrierAccountId: accountId,
    changeType: 'status_update',
    options: {},
    createdBy: 'bench',
    createdByActor: 'bench',
    createdAt: now,
    idempotencyKey: null,
    parentId: null,
    linkedId: null,
  });
  await handle.db.transaction().execute(async (tx) => {
    for await (const batch of csvRows.batches) {
      const valid = await run.check(batch, { db: tx, bulkChangeId: accountId });
      await bulkChangesRepository(tx).insertDeviceChanges(
        valid.map((row) => ({
          id: newId(now),
          tenantId,
          bulkChangeId: accountId,
          rowNumber: row.row,
          deviceId: row.device.id,
          ...row.identifiers,
          request: row.request,
          status: 'queued' as const,
          step: row.step,
        })),
        now,
      );
      batches += 1;
      if (batches % 50 === 0) measure(`after ${run.total} rows (${batches} batches) in the open transaction`);
    }
  });
  measure(`committed: ${run.valid} rows written, ${run.issues.length} problems`);

  const text = [
    `# ingest: live heap kept by each intake stage (node --expose-gc bench/lib/diagnose-ingest-memory.ts ${rows}), ${new Date().toISOString()}`,
    '',
    ...stages.map(
      (s) =>
        `  heap ${String(s.heapUsedMb).padStart(5)} MB  (+${String(s.deltaMb).padStart(5)} MB)  rss ${String(s.rssMb).padStart(5)} MB  ${s.stage}`,
    ),
  ].join('\n');
  const out = path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '../results/profiles/ingest-memory.txt',
  );
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${text}\n`);
  process.stdout.write(`${text}\n`);
  await handle.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
