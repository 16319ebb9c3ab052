import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { BulkChanges } from './bulk-changes-service.ts';
import { resultsHeader, resultsLine } from './results-csv.ts';

/** Numbers stay numbers (the row number); every other cell is text, identifiers above all. */
const NUMBER_COLUMNS = new Set(['row']);

/**
 * A bulk change's results as an XLSX workbook (`results.xlsx`): the results CSV's columns, one sheet,
 * the header bold and frozen, identifiers as text cells (a 20-digit ICCID never becomes 8.9E+19).
 * Written with exceljs's streaming writer a page of rows at a time, waiting while the client is
 * slower than the database, so memory stays flat however many rows. Cells are not formula-escaped: a
 * text cell of a workbook never runs as a formula, and the values stay exactly as the API has them.
 */
export function resultsXlsx(bulkChanges: BulkChanges, tenantId: string, id: string) {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  (async () => {
    try {
      const sheet = workbook.addWorksheet('Results', { views: [{ state: 'frozen', ySplit: 1 }] });
      sheet.columns = resultsHeader.map((name) => ({ key: name, width: Math.max(12, name.length + 2) }));
      const header = sheet.addRow(resultsHeader);
      header.font = { bold: true };
      header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8ECF1' } };
      header.commit();
      for await (const change of bulkChanges.allChanges(tenantId, id)) {
        const cells = resultsLine(change).map((value, index) =>
          value === null || value === undefined || value === ''
            ? null
            : NUMBER_COLUMNS.has(resultsHeader[index])
              ? Number(value)
              : String(value),
        );
        sheet.addRow(cells).commit();
        if (out.writableNeedDrain) await drained(out);
        // The client went away: nothing more to write, nobody to finish the workbook for.
        if (out.destroyed) return;
      }
      sheet.commit();
      await workbook.commit();
    } catch (error) {
      out.destroy(error as Error);
    }
  })();
  return out;
}

/** Until the response has room again, or is gone (a client that hung up never drains). */
const drained = (out: PassThrough) =>
  new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
