import type { Readable } from 'node:stream';
import type { ChangeType } from '../core/change-types.ts';
import { AppError } from '../core/errors.ts';
import { activationWorkbookRows } from './activation-workbook-input.ts';
import { type TableRows, tableRows } from './csv-input.ts';
import { openXlsxSheets, thenDrained } from './xlsx-sheets.ts';

/**
 * Opens an XLSX upload (ADR 0045): its first sheet, header row like a CSV's, read row by row while the
 * upload arrives, so a 1,000,000-row workbook takes the same memory as the same CSV. The other sheets
 * are read past, so the upload is consumed to its end — except for a new mobility service,
 * whose workbook may carry its customer assignment on a second sheet (ADR 0052).
 */
export async function openXlsxRows(input: Readable, changeType: ChangeType): Promise<TableRows> {
  const sheets = openXlsxSheets(input);
  const first = await sheets.next();
  if (!first) throw new AppError('XLSX_NO_SHEET', 'The workbook has no sheet');
  if (changeType === 'activate_new_service') return activationWorkbookRows(first, sheets);
  return tableRows(thenDrained(first.records, sheets), changeType);
}
