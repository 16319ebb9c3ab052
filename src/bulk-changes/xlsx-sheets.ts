import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { AppError } from '../core/errors.ts';
import type { Cell } from './csv-input.ts';
import { cellText } from './xlsx-cells.ts';

/** One sheet of an uploaded workbook, its non-empty rows read as they come. */
export interface XlsxSheet {
  /** Its tab's name (`Sheet<n>` when the workbook does not say it before the sheet). */
  name: string;
  /** Hidden or very hidden tabs hold helper data (a template's lists), never rows. */
  hidden: boolean;
  records: AsyncIterator<readonly Cell[]>;
}

/**
 * An uploaded workbook's sheets, in order; `drain` reads past the rest so the upload is consumed. A
 * sheet's rows are read to their end before the next sheet is asked for: exceljs deletes the temporary
 * file of a sheet it met before the shared strings once the next one is asked for, and a sheet not
 * read by then fails on the missing file after the request has been answered.
 */
export interface XlsxSheets {
  next(): Promise<XlsxSheet | undefined>;
  drain(): Promise<void>;
}

/**
 * Opens an XLSX upload (ADR 0045) with exceljs's streaming reader while it arrives: shared strings are
 * kept (a workbook's distinct texts), rows never are.
 */
export function openXlsxSheets(input: Readable): XlsxSheets {
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
  const nextSheet = async (): Promise<XlsxSheet | undefined> => {
    const sheet = await read(() => sheets.next());
    if (sheet.done) return undefined;
    const reader = sheet.value as typeof sheet.value & { name?: string; state?: string };
    const rows = reader[Symbol.asyncIterator]();
    return {
      name: reader.name ?? '',
      hidden: reader.state === 'hidden' || reader.state === 'veryHidden',
      records: {
        async next() {
          for (let row = await read(() => rows.next()); !row.done; row = await read(() => rows.next())) {
            const record = recordOf(row.value.values);
            if (record.length > 0) return { done: false, value: record };
          }
          return { done: true, value: undefined };
        },
      },
    };
  };
  return {
    next: nextSheet,
    async drain() {
      for (let other = await nextSheet(); other; other = await nextSheet()) await skipRows(other);
    },
  };
}

/** Reads a sheet's rows to their end without keeping them. */
export async function skipRows(sheet: XlsxSheet): Promise<void> {
  for (let record = await sheet.records.next(); !record.done; record = await sheet.records.next());
}

/** A sheet's records and then the rest of the workbook read past, so the upload is consumed to its end. */
export function thenDrained(
  records: AsyncIterator<readonly Cell[]>,
  sheets: XlsxSheets,
): AsyncIterator<readonly Cell[]> {
  return {
    async next() {
      const record = await records.next();
      if (record.done) await sheets.drain();
      return record;
    },
  };
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
