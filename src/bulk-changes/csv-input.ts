import { pipeline, type Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import type { ChangeType } from '../core/change-types.ts';
import { AppError, type ErrorDetail, validationFailed } from '../core/errors.ts';
import { fieldForHeader, isCurrentValueColumn, type RowField } from './row-fields.ts';
import { exportedValueField } from './target-state.ts';

export interface InputRow {
  /** 1-based data row (the header is not counted). */
  row: number;
  fields: Record<string, unknown>;
  /**
   * Fields that came from a row of another sheet (an activation workbook's customer assignment):
   * a problem with one of them is reported where it was written.
   */
  origins?: Record<string, CellOrigin>;
  /**
   * A round-trip file's `current_*` cells (ADR 0059): the line's values when it was exported, by the
   * row field they sit beside, as text. Only the change type's target fields, so a row stays small.
   */
  exported?: Partial<Record<RowField, string>>;
}

/** Where in a workbook a value was written: its sheet and data row. */
export interface CellOrigin {
  sheet: string;
  row: number;
}

/** Rows as intake takes them, a batch at a time, with the problems the reader found in them. */
export interface RowBatch {
  rows: InputRow[];
  issues: ErrorDetail[];
}

/** Rows per batch: enough to make each database round trip worth it, few enough to keep memory flat. */
export const ROW_BATCH_SIZE = 250;

/** A cell as a reader found it: its text, or why it cannot be read (an XLSX formula with no value, …). */
export type Cell = string | CellProblem;
export interface CellProblem {
  code: 'UNREADABLE_CELL' | 'NUMBER_NOT_EXACT';
  message: string;
}

/** An opened upload (CSV or XLSX): its header is read, its rows come as they are parsed. */
export interface TableRows {
  columns: RowField[];
  /** The sheet the rows are, when the workbook has other sheets that feed them (its problems name it). */
  sheet?: string;
  /** Problems of the header (unknown or repeated columns), reported once for the whole file. */
  headerIssues: ErrorDetail[];
  /** The file was exported for editing: it has `current_*` columns (read past, ADR 0059). */
  roundTrip: boolean;
  batches: AsyncIterable<RowBatch>;
}

/**
 * Opens a CSV upload (UTF-8 with or without BOM, `,` or `;`, quoted fields, CRLF): reads the header,
 * then yields the rows in batches while the upload is still arriving. Nothing holds more than a batch:
 * the parser waits while a batch is being checked and written (backpressure to the client).
 */
export async function openCsvRows(input: Readable, changeType: ChangeType): Promise<TableRows> {
  const parser = parse({
    bom: true,
    delimiter: [',', ';'],
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
  });
  // pipeline, not pipe: an error upstream (the size limit, a dropped upload) must end the parse too.
  pipeline(input, refuseNulBytes(), parser, () => {});
  return tableRows(csvRecords((parser as AsyncIterable<string[]>)[Symbol.asyncIterator]()), changeType);
}

/**
 * A table's records (CSV lines, a sheet's rows) as intake's rows: the first record is the header, mapped
 * to row fields; the others are rows, numbered from 1 without the empty ones, a batch at a time. Every
 * format goes through here, so every format has the same header rules and the same per-row problems.
 */
export async function tableRows(
  records: AsyncIterator<readonly Cell[]>,
  changeType: ChangeType,
): Promise<TableRows> {
  const first = await records.next();
  if (first.done) throw validationFailed([{ code: 'EMPTY_FILE', message: 'The file has no header row' }]);
  const headerIssues: ErrorDetail[] = [];
  const header = first.value.map((cell) => (typeof cell === 'string' ? cell : ''));
  const mapped = mapHeader(header, changeType, headerIssues);
  const exported = header.map((name) =>
    isCurrentValueColumn(name) ? exportedValueField(name, changeType) : undefined,
  );
  return {
    columns: mapped.filter((column): column is RowField => column !== undefined),
    headerIssues,
    roundTrip: header.some(isCurrentValueColumn),
    batches: readBatches(records, mapped, exported),
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
  records: AsyncIterator<readonly Cell[]>,
  columns: Array<RowField | undefined>,
  exportedColumns: Array<RowField | undefined>,
): AsyncGenerator<RowBatch> {
  let batch: RowBatch = { rows: [], issues: [] };
  let row = 0;
  for (let next = await records.next(); !next.done; next = await records.next()) {
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
      if (!field || cell === undefined || cell === '') continue;
      if (typeof cell === 'string') fields[field] = cell;
      else batch.issues.push({ row, field, ...cell });
    }
    const exported = exportedValues(record, exportedColumns);
    batch.rows.push(exported ? { row, fields, exported } : { row, fields });
    if (batch.rows.length === ROW_BATCH_SIZE) {
      yield batch;
      batch = { rows: [], issues: [] };
    }
  }
  if (batch.rows.length > 0) yield batch;
}

/** A round-trip row's `current_*` cells that hold a value, by their field. */
function exportedValues(
  record: readonly Cell[],
  columns: Array<RowField | undefined>,
): Partial<Record<RowField, string>> | undefined {
  let exported: Partial<Record<RowField, string>> | undefined;
  for (const [index, field] of columns.entries()) {
    const cell = record[index];
    // A blank or unreadable cell is no value the line had: the row counts as edited when its field is given.
    if (!field || typeof cell !== 'string' || cell === '') continue;
    exported ??= {};
    exported[field] = cell;
  }
  return exported;
}

/** A parse error is the caller's (422); the size limit keeps its own status (413). */
function csvRecords(records: AsyncIterator<string[]>): AsyncIterator<string[]> {
  return {
    async next() {
      try {
        return await records.next();
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError('INVALID_CSV', `The file is not valid CSV: ${(error as Error).message}`);
      }
    },
  };
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
    // The line's value when the file was exported: there to read, never a field.
    if (isCurrentValueColumn(name)) return undefined;
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
