import { Readable } from 'node:stream';
import type { ChangeType } from '../core/change-types.ts';
import { AppError, type ErrorDetail } from '../core/errors.ts';
import { type InputRow, openCsvRows, type TableRows } from './csv-input.ts';
import type { RowField } from './row-fields.ts';
import { openXlsxRows } from './xlsx-input.ts';

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** What the sender said the file is: a body's or part's content type, a part's file name. */
export interface DeclaredFile {
  contentType?: string;
  fileName?: string;
}

/** A ZIP archive's local file header: every XLSX starts with one. */
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** An OLE compound file: an encrypted workbook (Excel wraps it in one) or a binary .xls. */
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

const declaredXlsx = (declared: DeclaredFile) =>
  declared.contentType?.split(';')[0].trim().toLowerCase() === XLSX_CONTENT_TYPE ||
  /\.xlsx$/i.test(declared.fileName ?? '');

/**
 * Opens an upload as rows, CSV or XLSX: the file's first bytes decide (a browser may send a CSV as
 * `application/vnd.ms-excel`, a script an XLSX as `application/octet-stream`), and a file declared as
 * XLSX that is not one is told so rather than parsed as text. Both are read as they arrive.
 */
export async function openUploadRows(
  input: Readable,
  changeType: ChangeType,
  declared: DeclaredFile,
): Promise<TableRows> {
  const { head, stream } = await sniff(input, OLE.length);
  if (head.subarray(0, OLE.length).equals(OLE))
    throw new AppError(
      'XLSX_ENCRYPTED',
      'The file is a password-protected workbook or an old binary .xls: remove the password, or save it as .xlsx, and upload it again',
    );
  if (head.subarray(0, ZIP.length).equals(ZIP)) return openXlsxRows(stream, changeType);
  if (declaredXlsx(declared))
    throw new AppError(
      'INVALID_XLSX',
      'The file is declared as XLSX but is not a workbook (not a ZIP archive)',
    );
  return openCsvRows(stream, changeType);
}

/** The rows of an upload in memory (the portal keeps them for its preview); intake streams instead. */
export async function readUploadRows(
  input: Readable,
  changeType: ChangeType,
  declared: DeclaredFile,
): Promise<{
  rows: InputRow[];
  issues: ErrorDetail[];
  columns: RowField[];
  roundTrip: boolean;
  sheet?: string;
}> {
  const table = await openUploadRows(input, changeType, declared);
  const rows: InputRow[] = [];
  const issues = [...table.headerIssues];
  for await (const batch of table.batches) {
    rows.push(...batch.rows);
    issues.push(...batch.issues);
  }
  return {
    rows,
    issues,
    columns: table.columns,
    roundTrip: table.roundTrip,
    ...(table.sheet ? { sheet: table.sheet } : {}),
  };
}

/**
 * The stream's first bytes, and a stream that still yields all of them: read until `bytes` have come
 * (or the stream ended), then the rest as it arrives. An error of the input, even among the first
 * bytes (a multipart body cut short), ends the new stream, for its reader to report in its own terms.
 */
async function sniff(input: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks = input[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let length = 0;
  let failure: { error: unknown } | undefined;
  while (length < bytes) {
    const next = await chunks.next().catch((error: unknown) => {
      // An error with its own status (the size limit's 413) is the answer, whatever the file is.
      if (error instanceof AppError || typeof (error as { statusCode?: unknown }).statusCode === 'number')
        throw error;
      failure = { error };
      return { done: true as const, value: undefined };
    });
    if (next.done) break;
    read.push(next.value);
    length += (next.value as Buffer).length;
  }
  const head = Buffer.concat(read);
  async function* rest() {
    if (head.length > 0) yield head;
    if (failure) throw failure.error;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}
