import type { BulkChanges } from './bulk-changes-service.ts';
import { resultsHeader, resultsLine } from './results-csv.ts';
import { linesOf, xlsxFile } from './table-files.ts';

/** Numbers stay numbers (the row number); every other cell is text, identifiers above all. */
const NUMBER_COLUMNS = new Set(['row']);

/**
 * A bulk change's results as an XLSX workbook (`results.xlsx`): the results CSV's columns, one sheet,
 * streamed a row at a time like the CSV (`table-files.ts`).
 */
export function resultsXlsx(bulkChanges: BulkChanges, tenantId: string, id: string) {
  return xlsxFile(
    { sheet: 'Results', columns: resultsHeader, numberColumns: NUMBER_COLUMNS },
    linesOf(bulkChanges.allChanges(tenantId, id), resultsLine),
  );
}
