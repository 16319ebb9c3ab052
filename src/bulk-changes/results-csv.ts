import { stringify } from 'csv-stringify';
import type { BulkChanges } from './bulk-changes-service.ts';

/**
 * A cell that begins with = + - @ (or a tab / carriage return) would run as a formula when the results
 * are opened in a spreadsheet; a leading apostrophe makes it text.
 */
export const escapeFormula = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const columns = [
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
];

/**
 * A bulk change's results as CSV (API §2 `results.csv`: one line per row, formula-escaped), streamed
 * from the rows page by page with backpressure.
 */
export function resultsCsv(bulkChanges: BulkChanges, tenantId: string, id: string) {
  const csv = stringify({ header: true, columns, cast: { string: escapeFormula } });
  (async () => {
    try {
      for await (const change of bulkChanges.allChanges(tenantId, id)) {
        const line = [
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
        ];
        if (!csv.write(line)) await new Promise((resolve) => csv.once('drain', resolve));
      }
      csv.end();
    } catch (error) {
      csv.destroy(error as Error);
    }
  })();
  return csv;
}
