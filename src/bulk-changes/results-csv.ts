import type { BulkChanges } from './bulk-changes-service.ts';
import { resultColumns } from './result-columns.ts';
import { csvFile, linesOf, type TableLine } from './table-files.ts';
import type { DeviceChangeView } from './views.ts';

/** A row as the results list it: its API view and the calls that carried it. */
type ResultRow = DeviceChangeView & { calls: ReadonlyArray<{ id: number; action: string }> };

/**
 * The results' columns (API §2 `results.csv`), the same in CSV and XLSX: the documented ones first, in
 * their documented order, then the explicit values the row produced (`result-columns.ts`), so a script
 * reading the first columns by position keeps working.
 */
export const resultsHeader = [
  'row',
  'iccid',
  'imei',
  'msisdn',
  'eid',
  'status',
  'error_code',
  'error_message',
  'carrier_code',
  'result',
  'calls',
  ...resultColumns.map((column) => column.csv),
];

/** One row's cells, in the order of {@link resultsHeader}. */
export const resultsLine = (change: ResultRow): TableLine => [
  change.row,
  change.iccid,
  change.imei,
  change.msisdn,
  change.eid,
  change.status,
  change.error?.code,
  change.error?.message,
  change.error?.carrierCode,
  change.result ? JSON.stringify(change.result) : '',
  // The audit entries of the calls that carried the row, batch calls and callbacks included.
  change.calls.map((call) => `${call.action}#${call.id}`).join(' '),
  ...resultColumns.map((column) => change[column.json]),
];

/**
 * A bulk change's results as CSV (API §2 `results.csv`: one line per row, formula-escaped), streamed
 * from the rows page by page with backpressure.
 */
export function resultsCsv(bulkChanges: BulkChanges, tenantId: string, id: string) {
  return csvFile(resultsHeader, linesOf(bulkChanges.allChanges(tenantId, id), resultsLine));
}
