import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';

/** A cell as a test writes it: a value, or a value with a number format (a date, text forced). */
export type XlsxCell = ExcelJS.CellValue | { value: ExcelJS.CellValue; numFmt: string };

/**
 * A real .xlsx file in memory, written by exceljs's streaming writer as a spreadsheet would save it
 * (shared strings), one sheet per entry; `sheets` maps a sheet's name to its rows, header first.
 */
export async function xlsxFile(sheets: Record<string, XlsxCell[][]>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: true,
    useStyles: true,
  });
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = workbook.addWorksheet(name);
    for (const cells of rows) {
      const row = sheet.addRow(cells.map((cell) => (isStyled(cell) ? cell.value : cell)));
      cells.forEach((cell, index) => {
        if (isStyled(cell)) row.getCell(index + 1).numFmt = cell.numFmt;
      });
      row.commit();
    }
    sheet.commit();
  }
  await workbook.commit();
  return Buffer.concat(chunks);
}

const isStyled = (cell: XlsxCell): cell is { value: ExcelJS.CellValue; numFmt: string } =>
  cell !== null && typeof cell === 'object' && 'numFmt' in cell;

/** The first sheet of an .xlsx, read back with the streaming reader: each row's values from column A. */
export async function xlsxRows(
  file: Buffer,
): Promise<{ rows: unknown[][]; sheet: ExcelJS.stream.xlsx.WorksheetReader }> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([file]), { styles: 'cache' });
  for await (const sheet of workbook) {
    const rows: unknown[][] = [];
    for await (const row of sheet) rows.push((row.values as unknown[]).slice(1));
    return { rows, sheet };
  }
  throw new Error('The workbook has no sheet');
}
