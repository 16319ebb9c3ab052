import { pipeline, type Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import type { ChangeType } from '../core/change-types.ts';
import { AppError, type ErrorDetail, validationFailed } from '../core/errors.ts';
import { fieldForHeader, type RowField } from './row-fields.ts';

export interface InputRow {
  /** 1-based data row (the header is not counted). */
  row: number;
  fields: Record<string, unknown>;
}

/** Rows as intake takes them, a batch at a time, with the problems the reader found in them. */
export interface RowBatch {
  rows: InputRow[];
  issues: ErrorDetail[];
}

/** Rows per batch: enough to make each database round trip worth it, few enough to keep memory flat. */
export const ROW_BATCH_SIZE = 250;

/** An opened CSV: its header is read, its rows come as they are parsed. */
export interface CsvRows {
  columns: RowField[];
  /** Problems of the header (unknown or repeated columns), reported once for the whole file. */
  headerIssues: ErrorDetail[];
  batches: AsyncIterable<RowBatch>;
}

/**
 * Opens a CSV upload (UTF-8 with or without BOM, `,` or `;`, quoted fields, CRLF): reads the header,
 * then yields the rows in batches while the upload is still arriving. Nothing holds more than a batch:
 * the parser waits while a batch is being checked and written (backpressure to the client).
 */
export async function openCsvRows(input: Readable, changeType: ChangeType): Promise<CsvRows> {
  const parser = parse({
    bom: true,
    delimiter: [',', ';'],
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
  });
  // pipeline, not pipe: an error upstream (the size limit, a dropped upload) must end the parse too.
  pipeline(input, refuseNulBytes(), parser, () => {});
  const records = (parser as AsyncIterable<string[]>)[Symbol.asyncIterator]();
  const first = await nextRecord(records);
  if (first.done) throw validationFailed([{ code: 'EMPTY_FILE', message: 'The file has no header row' }]);
  const headerIssues: ErrorDetail[] = [];
  const mapped = mapHeader(first.value, changeType, headerIssues);
  return {
    columns: mapped.filter((column): column is RowField => column !== undefined),
    headerIssues,
    batches: readBatches(records, mapped),
  };
}

/**
 * A NUL byte is never in UTF-8 text (a UTF-16 file is full of them), no field holds one, and PostgreSQL
 * cannot store one: the file is refused before its rows are read.
 */
function refuseNulBytes(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (chunk.includes(0)) {
        callback(new AppError('INVALID_CSV', 'The file holds a NUL byte: it is not UTF-8 text (UTF-16?)'));
      } else callback(null, chunk);
    },
  });
}

async function* readBatches(
  records: AsyncIterator<string[]>,
  columns: Array<RowField | undefined>,
): AsyncGenerator<RowBatch> {
  let batch: RowBatch = { rows: [], issues: [] };
  let row = 0;
  for (let next = await nextRecord(records); !next.done; next = await nextRecord(records)) {
    const record = next.value;
    if (record.every((cell) => cell === '')) continue;
    row += 1;
    if (record.length > columns.length) {
      batch.issues.push({
        row,
        code: 'TOO_MANY_CELLS',
        message: `Row has ${record.length} cells; the header has ${columns.length}`,
      });
    }
    const fields: Record<string, unknown> = {};
    for (const [index, field] of columns.entries()) {
      const cell = record[index];
      if (field && cell !== undefined && cell !== '') fields[field] = cell;
    }
    batch.rows.push({ row, fields });
    if (batch.rows.length === ROW_BATCH_SIZE) {
      yield batch;
      batch = { rows: [], issues: [] };
    }
  }
  if (batch.rows.length > 0) yield batch;
}

/** A parse error is the caller's (422); the size limit keeps its own status (413). */
async function nextRecord(records: AsyncIterator<string[]>): Promise<IteratorResult<string[]>> {
  try {
    return await records.next();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('INVALID_CSV', `The file is not valid CSV: ${(error as Error).message}`);
  }
}

/** The rows of a CSV in memory (the portal keeps them for its preview); intake streams instead. */
export async function readCsvRows(
  input: Readable,
  changeType: ChangeType,
): Promise<{ rows: InputRow[]; issues: ErrorDetail[]; columns: RowField[] }> {
  const csv = await openCsvRows(input, changeType);
  const rows: InputRow[] = [];
  const issues = [...csv.headerIssues];
  for await (const batch of csv.batches) {
    rows.push(...batch.rows);
    issues.push(...batch.issues);
  }
  return { rows, issues, columns: csv.columns };
}

/** Rows already in memory (JSON, the portal's preview), as intake's batches, each with its rows' issues. */
export async function* inBatches(rows: InputRow[], rowIssues: ErrorDetail[] = []): AsyncGenerator<RowBatch> {
  for (let start = 0; start < rows.length; start += ROW_BATCH_SIZE) {
    const slice = rows.slice(start, start + ROW_BATCH_SIZE);
    const first = slice[0].row;
    const last = slice[slice.length - 1].row;
    yield {
      rows: slice,
      issues: rowIssues.filter((issue) => issue.row !== undefined && issue.row >= first && issue.row <= last),
    };
  }
}

function mapHeader(
  header: string[],
  changeType: ChangeType,
  issues: ErrorDetail[],
): Array<RowField | undefined> {
  const seen = new Set<RowField>();
  return header.map((name) => {
    const field = fieldForHeader(name, changeType);
    if (!field) {
      issues.push({
        field: name,
        code: 'UNKNOWN_COLUMN',
        message: `Column "${name}" is not a field of ${changeType}`,
      });
      return undefined;
    }
    if (seen.has(field)) {
      issues.push({
        field: name,
        code: 'DUPLICATE_COLUMN',
        message: `Column "${name}" repeats field ${field}`,
      });
      return undefined;
    }
    seen.add(field);
    return field;
  });
}
