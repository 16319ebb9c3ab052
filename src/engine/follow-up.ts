import {
  type BulkChangeRow,
  bulkChangesRepository,
  type DeviceChangeRow,
  type NewDeviceChange,
} from '../bulk-changes/bulk-changes-repository.ts';
import type { CarrierAdapter, Flow } from '../carriers/carrier.ts';
import type { Dialect, Tx } from '../db/database.ts';
import { devicesRepository, toDeviceRecord } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { advanceJob, type Enqueue } from './jobs.ts';

/** Follow-up rows of lines whose change failed: failed too, with the reason, never sent. */
export const PARENT_CHANGE_FAILED = 'PARENT_CHANGE_FAILED';

type FollowUpRow = { row: DeviceChangeRow; request: Record<string, unknown> };

/** Rows of the parent read and written at a time: a follow-up of any size needs little memory. */
const PAGE = 1000;

/**
 * The linked bulk change a finished one asks for (new service → customer assignment): a row for each
 * row that named one. Rows whose line was activated start queued; the others fail at once, saying why,
 * so the follow-up is never marked successful for a line that does not exist (original §7, B24).
 * Runs in the transaction that finishes the parent. Returns the new bulk change's id, if any.
 */
export async function createFollowUp(
  tx: Tx,
  dialect: Dialect,
  enqueue: Enqueue,
  parent: BulkChangeRow,
  flow: Flow<unknown, unknown>,
  adapter: CarrierAdapter,
): Promise<string | undefined> {
  const followUp = flow.followUp;
  const followUpFlow = followUp && adapter.flows[followUp.changeType];
  if (!followUp || !followUpFlow || parent.linked_id) return undefined;
  const repository = bulkChangesRepository(tx, dialect);
  const now = Date.now();
  let id: string | undefined;
  let total = 0;
  for (let after = 0; ; ) {
    const page = await repository.rowsAfter(parent.id, after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1].row_number;
    const rows = page.flatMap((row): FollowUpRow[] => {
      const fields = followUp.fields(JSON.parse(row.request));
      const parsed = fields && followUpFlow.requestSchema.safeParse(fields);
      return parsed?.success ? [{ row, request: parsed.data as Record<string, unknown> }] : [];
    });
    if (rows.length === 0) continue;
    id ??= await insertFollowUp(tx, dialect, parent, followUp.changeType, now);
    await repository.insertDeviceChanges(
      await followUpRows(tx, dialect, parent, followUpFlow, id, rows, now),
    );
    total += rows.length;
  }
  if (id === undefined) return undefined;
  await repository.update(id, { total_count: total, updated_at: now });
  await repository.update(parent.id, { linked_id: id, updated_at: now });
  await enqueue(tx, advanceJob(id));
  return id;
}

async function insertFollowUp(
  tx: Tx,
  dialect: Dialect,
  parent: BulkChangeRow,
  changeType: string,
  now: number,
): Promise<string> {
  const id = newId(now);
  await bulkChangesRepository(tx, dialect).insertBulkChange({
    id,
    tenant_id: parent.tenant_id,
    carrier_account_id: parent.carrier_account_id,
    change_type: changeType,
    status: 'queued',
    options: '{}',
    created_by: parent.created_by,
    created_at: now,
    scheduled_for: null,
    linked_id: parent.id,
    total_count: 0,
    updated_at: now,
  });
  return id;
}

/** The follow-up's rows for a page of the parent's: queued for lines that exist, failed for the rest. */
async function followUpRows(
  tx: Tx,
  dialect: Dialect,
  parent: BulkChangeRow,
  followUpFlow: Flow<unknown, unknown>,
  id: string,
  rows: FollowUpRow[],
  now: number,
): Promise<NewDeviceChange[]> {
  const devices = await devicesRepository(tx).findByIdentifiers(
    parent.carrier_account_id,
    'iccid',
    rows.flatMap(({ row }) => (row.iccid ? [row.iccid] : [])),
  );
  const busy = await bulkChangesRepository(tx, dialect).linesInRunningChanges(
    parent.carrier_account_id,
    [...devices.values()].map((device) => device.id),
  );
  return rows.map(({ row, request }) => {
    const device = row.iccid ? devices.get(row.iccid) : undefined;
    const busyIn = device && busy.get(device.id);
    const result = row.result ? JSON.parse(row.result) : null;
    const lineExists = device && (row.status === 'succeeded' || result?.activated === true);
    const base = {
      id: newId(now),
      tenant_id: parent.tenant_id,
      bulk_change_id: id,
      row_number: row.row_number,
      device_id: device?.id ?? null,
      iccid: row.iccid,
      imei: device?.imei ?? row.imei,
      msisdn: device?.msisdn ?? row.msisdn,
      eid: row.eid,
      request: JSON.stringify(request),
      attempts: 0,
      updated_at: now,
    };
    if (lineExists && busyIn) {
      return {
        ...base,
        device_id: null,
        status: 'failed',
        step: 'not_started',
        error_code: 'LINE_IN_RUNNING_CHANGE',
        error_message: `Not done: the line is in bulk change ${busyIn}, which is still running`,
      };
    }
    if (lineExists) {
      const step =
        typeof followUpFlow.firstStep === 'string'
          ? followUpFlow.firstStep
          : followUpFlow.firstStep(request, toDeviceRecord(device));
      return { ...base, status: 'queued', step };
    }
    return {
      ...base,
      status: 'failed',
      step: 'not_started',
      error_code: PARENT_CHANGE_FAILED,
      error_message: `Not done: the line's ${parent.change_type} failed in row ${row.row_number} (${row.error_code ?? row.status}: ${row.error_message ?? 'no detail'})`,
    };
  });
}
