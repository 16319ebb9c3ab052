import { systemActor } from '../audit/actor.ts';
import { bulkChangeWriter } from '../bulk-changes/bulk-change-writer.ts';
import { bulkChangesRepository } from '../bulk-changes/bulk-changes-repository.ts';
import type { Enqueue } from '../bulk-changes/jobs.ts';
import type { BulkChange, DeviceChange, NewDeviceChange } from '../core/bulk-change.ts';
import { errorCodes } from '../core/errors.ts';
import type { Flow } from '../core/flow.ts';
import type { Tx } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';

type FollowUpRow = { row: DeviceChange; request: Record<string, unknown> };
type FollowUp = NonNullable<Flow<unknown, unknown, string>['followUp']>;

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
  enqueue: Enqueue,
  parent: BulkChange,
  followUp: FollowUp,
  followUpFlow: Flow<unknown, unknown, string>,
): Promise<string | undefined> {
  if (parent.linkedId) return undefined;
  const bulkChanges = bulkChangesRepository(tx);
  const writer = bulkChangeWriter(tx, enqueue);
  const now = Date.now();
  let id: string | undefined;
  let total = 0;
  for (let afterRow = 0; ; ) {
    const page = await bulkChanges.listChanges(parent.id, { afterRow, limit: PAGE });
    if (page.length === 0) break;
    afterRow = page[page.length - 1].rowNumber;
    const rows = page.flatMap((row): FollowUpRow[] => {
      const fields = followUp.fields(row.request);
      const parsed = fields && followUpFlow.requestSchema.safeParse(fields);
      return parsed?.success ? [{ row, request: parsed.data as Record<string, unknown> }] : [];
    });
    if (rows.length === 0) continue;
    if (id === undefined) {
      id = newId(now);
      await writer.begin({
        id,
        tenantId: parent.tenantId,
        carrierAccountId: parent.carrierAccountId,
        changeType: followUp.changeType,
        options: {},
        createdBy: parent.createdBy,
        // The follow-up changes lines on behalf of whoever asked for the parent.
        createdByActor: parent.createdByActor ?? systemActor('engine').id,
        createdAt: now,
        idempotencyKey: null,
        parentId: null,
        linkedId: parent.id,
        notifyEmails: parent.notifyEmails,
      });
    }
    await writer.addRows(await followUpRows(tx, parent, followUpFlow, id, rows, now), now);
    total += rows.length;
  }
  if (id === undefined) return undefined;
  await bulkChanges.update(parent.id, { linkedId: id }, now);
  await writer.end(id, { total, actor: systemActor('engine') });
  return id;
}

/** The follow-up's rows for a page of the parent's: queued for lines that exist, failed for the rest. */
async function followUpRows(
  tx: Tx,
  parent: BulkChange,
  followUpFlow: Flow<unknown, unknown, string>,
  id: string,
  rows: FollowUpRow[],
  now: number,
): Promise<NewDeviceChange[]> {
  // By the line's id: the parent may have changed the line's identifiers (a SIM swap).
  const devices = await devicesRepository(tx).findByIds(
    rows.flatMap(({ row }) => (row.deviceId ? [row.deviceId] : [])),
  );
  const busy = await bulkChangesRepository(tx).linesInRunningChanges(
    parent.carrierAccountId,
    [...devices.values()].map((device) => device.id),
  );
  return rows.map(({ row, request }): NewDeviceChange => {
    const device = row.deviceId ? devices.get(row.deviceId) : undefined;
    const busyIn = device && busy.get(device.id);
    const lineExists = device && (row.status === 'succeeded' || row.result?.activated === true);
    const base = {
      id: newId(now),
      tenantId: parent.tenantId,
      bulkChangeId: id,
      rowNumber: row.rowNumber,
      deviceId: device?.id ?? null,
      iccid: device?.iccid ?? row.iccid,
      imei: device?.imei ?? row.imei,
      msisdn: device?.msisdn ?? row.msisdn,
      eid: row.eid,
      request,
    };
    if (lineExists && busyIn) {
      return {
        ...base,
        deviceId: null,
        status: 'failed',
        step: 'not_started',
        error: {
          code: errorCodes.LINE_IN_RUNNING_CHANGE,
          message: `Not done: the line is in bulk change ${busyIn}, which is still running`,
        },
      };
    }
    if (lineExists) {
      const step =
        typeof followUpFlow.firstStep === 'string'
          ? followUpFlow.firstStep
          : followUpFlow.firstStep(request, device);
      return { ...base, status: 'queued', step };
    }
    return {
      ...base,
      status: 'failed',
      step: 'not_started',
      error: {
        code: errorCodes.PARENT_CHANGE_FAILED,
        message: `Not done: the line's ${parent.changeType} failed in row ${row.rowNumber} (${row.error?.code ?? row.status}: ${row.error?.message ?? 'no detail'})`,
      },
    };
  });
}
