import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ChangeType } from '../core/change-types.ts';
import { AppError } from '../core/errors.ts';
import { type Cell, type TableRows, tableRows } from './csv-input.ts';
import { cellText } from './xlsx-cells.ts';

/**
 * Opens an XLSX upload (ADR 0045): its first sheet, header row like a CSV's, read row by row with
 * exceljs's streaming reader while the upload arrives, so a 1,000,000-row workbook takes the same
 * memory as the same CSV. Shared strings are kept (a workbook's distinct texts), rows never are. The
 * other sheets are read past unparsed, so the upload is consumed to its end.
 */
export async function openXlsxRows(input: Readable, changeType: ChangeType): Promise<TableRows> {
  // exceljs pipes the input into its unzipper without passing errors on: the size limit's 413 or a
  // dropped upload would leave it waiting, so every read also listens for the input to fail. Not a
  // race with one long-pending promise: each race would stay attached to it, a leak of every row.
  let inputError: { error: unknown } | undefined;
  input.once('error', (error) => {
    inputError = { error };
  });
  const read = <T>(step: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const fail = (error: unknown) => reject(asXlsxError(error));
      if (inputError) return fail(inputError.error);
      input.once('error', fail);
      step()
        .then(resolve, fail)
        .finally(() => input.off('error', fail));
    });
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles say which numbers are dates.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const sheets = workbook[Symbol.asyncIterator]();
  const first = await read(() => sheets.next());
  if (first.done) throw new AppError('XLSX_NO_SHEET', 'The workbook has no sheet');
  const rows = first.value[Symbol.asyncIterator]();
  const records: AsyncIterator<readonly Cell[]> = {
    async next() {
      for (let row = await read(() => rows.next()); !row.done; row = await read(() => rows.next())) {
        const record = recordOf(row.value.values);
        if (record.length > 0) return { done: false, value: record };
      }
      for (let other = await read(() => sheets.next()); !other.done; other = await read(() => sheets.next()));
      return { done: true, value: undefined };
    },
  };
  return tableRows(records, changeType);
}

/**
 * A sheet row's cells, from column A, without the empty ones at its end (a cell formatted but empty
 * is no cell); an empty row is no record, as an empty CSV line is none.
 */
function recordOf(values: unknown): Cell[] {
  const cells = Array.isArray(values) ? values : [];
  const record = Array.from({ length: Math.max(cells.length - 1, 0) }, (_, index) =>
    cellText(cells[index + 1]),
  );
  while (record.length > 0 && record[record.length - 1] === '') record.pop();
  return record;
}

/** An error reading the workbook is the caller's (422); the size limit keeps its own status (413). */
function asXlsxError(error: unknown): unknown {
  if (error instanceof AppError || typeof (error as { statusCode?: unknown }).statusCode === 'number')
    return error;
  return new AppError(
    'INVALID_XLSX',
    `The file is not a readable XLSX workbook: ${(error as Error).message}`,
  );
}
