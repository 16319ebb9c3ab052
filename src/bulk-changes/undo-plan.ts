import { z } from 'zod';
import type { BulkChange, DeviceChange } from '../core/bulk-change.ts';
import type { CarrierName } from '../core/change-types.ts';
import { irreversibleReasons } from '../core/undo.ts';
import type { Executor } from '../db/database.ts';
import { deviceHistoryRepository } from '../devices/device-history-repository.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import type { InputRow } from './csv-input.ts';
import { reverseOf } from './reversal.ts';

/** Rows of the bulk change read at a time, with their history and lines. */
const PAGE = 1000;

/** A row of the bulk change that its undo leaves alone, and why (`irreversible` of the API's answer). */
export const irreversibleRowSchema = z.object({
  row: z.number().int(),
  changeId: z.string(),
  iccid: z.string().nullable(),
  msisdn: z.string().nullable(),
  eid: z.string().nullable(),
  reason: z.enum(irreversibleReasons),
  message: z.string(),
  code: z
    .string()
    .optional()
    .describe('For REVERSE_REFUSED: the code of the check the reverse row failed (INVALID_TRANSITION, …)'),
});
export type IrreversibleRow = z.infer<typeof irreversibleRowSchema>;

/** The undo of a bulk change as intake takes it: its rows keep the row numbers of the rows they reverse. */
export interface UndoPlan {
  rows: InputRow[];
  irreversible: IrreversibleRow[];
  /** Each reversed row's own row, by row number, to name the rows intake then refuses. */
  reversed: Map<number, IrreversibleRow>;
}

const rowRef = (row: DeviceChange) => ({
  row: row.rowNumber,
  changeId: row.id,
  iccid: row.iccid,
  msisdn: row.msisdn,
  eid: row.eid,
});

/**
 * Reads a finished bulk change's rows a page at a time, each with what it changed on its line (the
 * device history, ADR 0046) and the line as it is now, and decides each row's reverse (`reverseOf`).
 * The reverse rows name their lines by the carrier's key as the line has it now.
 */
export async function planUndo(
  db: Executor,
  original: BulkChange,
  carrier: CarrierName,
  keyField: 'iccid' | 'msisdn' | 'eid',
): Promise<UndoPlan> {
  const plan: UndoPlan = { rows: [], irreversible: [], reversed: new Map() };
  for (let afterRow: number | undefined; ; ) {
    const rows = await bulkChangesRepository(db).listChanges(original.id, { afterRow, limit: PAGE });
    if (rows.length === 0) return plan;
    const history = await deviceHistoryRepository(db).forRows(rows.map((row) => row.id));
    const lines = await devicesRepository(db).findByIds(rows.flatMap((row) => row.deviceId ?? []));
    for (const row of rows) {
      const line = row.deviceId ? lines.get(row.deviceId) : undefined;
      const reversal = reverseOf(
        original.changeType,
        carrier,
        { status: row.status, changes: history.get(row.id) ?? [] },
        line,
      );
      if (reversal.kind === 'irreversible') {
        plan.irreversible.push({ ...rowRef(row), reason: reversal.reason, message: reversal.message });
        continue;
      }
      plan.rows.push({ row: row.rowNumber, fields: { [keyField]: line?.[keyField], ...reversal.fields } });
      plan.reversed.set(row.rowNumber, { ...rowRef(row), reason: 'REVERSE_REFUSED', message: '' });
    }
    afterRow = rows[rows.length - 1].rowNumber;
  }
}

/**
 * The reverse rows intake refused (a line since in another change, a transition the carrier does not
 * allow from where the line is now): they are irreversible too, once each, with the first check's code
 * and message.
 */
export function refusedRows(
  plan: UndoPlan,
  refused: ReadonlyArray<{ row?: number; code?: string; message?: string }>,
): IrreversibleRow[] {
  const byRow = new Map<number, IrreversibleRow>();
  for (const issue of refused) {
    const reversed = issue.row === undefined ? undefined : plan.reversed.get(issue.row);
    if (!reversed || byRow.has(reversed.row)) continue;
    byRow.set(reversed.row, {
      ...reversed,
      code: issue.code,
      message: `${issue.code}: ${issue.message ?? ''}`,
    });
  }
  return [...byRow.values()];
}
