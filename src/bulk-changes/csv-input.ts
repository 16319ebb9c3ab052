import { pipeline, type Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError, type ErrorDetail, validationFailed } from '../shared/errors.ts';
import { fieldForHeader, type RowField } from './row-fields.ts';

export interface InputRow {
  /** 1-based data row (the header is not counted). */
  row: number;
  fields: Record<string, unknown>;
}

/**
 * Parses a CSV upload (UTF-8 with or without BOM, `,` or `;`, quoted fields, CRLF) into rows keyed by
 * field name. Header problems are reported once, for the whole file.
 */
export async function readCsvRows(
  input: Readable,
  changeType: string,
): Promise<{ rows: InputRow[]; issues: ErrorDetail[]; columns: RowField[] }> {
  const parser = parse({
    bom: true,
    delimiter: [',', ';'],
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
  });
  // pipeline, not pipe: an error upstream (the size limit, a dropped upload) must end the parse too.
  pipeline(input, parser, () => {});
  const rows: InputRow[] = [];
  const issues: ErrorDetail[] = [];
  let columns: Array<RowField | undefined> | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!columns) {
        columns = mapHeader(record, changeType, issues);
        continue;
      }
      if (record.every((cell) => cell === '')) continue;
      const row = rows.length + 1;
      if (record.length > columns.length) {
        issues.push({
          row,
          code: 'TOO_MANY_CELLS',
          message: `Row has ${record.length} cells; the header has ${columns.length}`,
        });
      }
      const fields: Record<string, unknown> = {};
      columns.forEach((field, index) => {
        const cell = record[index];
        if (field && cell !== undefined && cell !== '') fields[field] = cell;
      });
      rows.push({ row, fields });
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(422, 'INVALID_CSV', `The file is not valid CSV: ${(error as Error).message}`);
  }
  if (!columns) throw validationFailed([{ code: 'EMPTY_FILE', message: 'The file has no header row' }]);
  return { rows, issues, columns: columns.filter((column): column is RowField => column !== undefined) };
}

function mapHeader(header: string[], changeType: string, issues: ErrorDetail[]): Array<RowField | undefined> {
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
