import { PassThrough, type Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';

/** One line of a table file, in the order of its columns; empty cells as null, undefined or ''. */
export type TableLine = ReadonlyArray<string | number | null | undefined>;

/**
 * A cell that begins with = + - @ (or a tab / carriage return) would run as a formula when the file is
 * opened in a spreadsheet; a leading apostrophe makes it text.
 */
export const escapeFormula = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/** Lines as CSV (formula-escaped), written as they are read, waiting while the client is slower. */
export function csvFile(columns: readonly string[], lines: AsyncIterable<TableLine>): Readable {
  const csv = stringify({ header: true, columns: [...columns], cast: { string: escapeFormula } });
  (async () => {
    try {
      for await (const line of lines) {
        if (!csv.write(line)) await new Promise((resolve) => csv.once('drain', resolve));
      }
      csv.end();
    } catch (error) {
      csv.destroy(error as Error);
    }
  })();
  return csv;
}

export interface XlsxLayout {
  sheet: string;
  columns: readonly string[];
  /** Columns whose cells are numbers (a row number); every other cell is text, identifiers above all. */
  numberColumns?: ReadonlySet<string>;
  /** Columns shaded grey, header and cells: there to read, not to edit. */
  readOnlyColumns?: ReadonlySet<string>;
}

/**
 * Lines written between two turns of the event loop. exceljs hands the sheet's XML to the zip without
 * heeding its backpressure, and the zip compresses on the thread pool, whose results come in only on a
 * turn of the loop; lines read from SQLite come without one (node:sqlite answers at once). Without a
 * turn now and then the compression waits for the last line and the whole sheet's XML waits in memory:
 * about 200 MB for 1,000,000 lines of results. 100 lines are about 25 KB of XML, less than one chunk.
 */
const LINES_PER_TURN = 100;

const HEADER_FILL = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8ECF1' } } as const;
const READ_ONLY_FILL = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF2F2F2' } } as const;

/**
 * Lines as an XLSX workbook of one sheet, the header bold and frozen, identifiers as text cells (a
 * 20-digit ICCID never becomes 8.9E+19). Written with exceljs's streaming writer a line at a time,
 * waiting while the client is slower than the database and letting the compression keep up
 * ({@link LINES_PER_TURN}), so memory stays flat however many lines.
 * Cells are not formula-escaped: a text cell of a workbook never runs as a formula, and the values
 * stay exactly as the API has them.
 */
export function xlsxFile(layout: XlsxLayout, lines: AsyncIterable<TableLine>): Readable {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const numbers = layout.numberColumns ?? new Set<string>();
  const readOnly = layout.readOnlyColumns ?? new Set<string>();
  (async () => {
    try {
      const sheet = workbook.addWorksheet(layout.sheet, { views: [{ state: 'frozen', ySplit: 1 }] });
      sheet.columns = layout.columns.map((name) => ({
        key: name,
        width: Math.max(12, name.length + 2),
        ...(readOnly.has(name) ? { style: { fill: READ_ONLY_FILL } } : {}),
      }));
      const header = sheet.addRow([...layout.columns]);
      header.font = { bold: true };
      header.fill = HEADER_FILL;
      header.commit();
      let written = 0;
      for await (const line of lines) {
        const cells = line.map((value, index) =>
          value === null || value === undefined || value === ''
            ? null
            : numbers.has(layout.columns[index])
              ? Number(value)
              : String(value),
        );
        sheet.addRow(cells).commit();
        if (++written % LINES_PER_TURN === 0) await nextTurn();
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

/** Each item of a stream as the line it makes, read as they are asked for. */
export async function* linesOf<T>(items: AsyncIterable<T>, line: (item: T) => TableLine) {
  for await (const item of items) yield line(item);
}
