import ExcelJS from 'exceljs';
import { luhnCheckDigit } from '../../src/core/identifiers.ts';

/** A valid IMEI for index `index` (TAC of an ordinary, not eSIM-only, device). */
export const workbookImei = (index: number) => {
  const payload = `35391108${String(index).padStart(6, '0')}`;
  return payload + luhnCheckDigit(payload);
};

/**
 * The activation workbook template filled in as a person would in a spreadsheet: each row's values put
 * under the template's own header, by column name, on the sheet named; the file saved again.
 */
export async function fillWorkbook(
  template: Buffer | ArrayBuffer,
  sheets: Record<string, Array<Record<string, string>>>,
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(template as ArrayBuffer);
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = workbook.getWorksheet(name);
    if (!sheet) throw new Error(`The template has no sheet ${name}`);
    const columns = new Map<string, number>();
    sheet.getRow(1).eachCell((cell, column) => {
      columns.set(String(cell.value), column);
    });
    rows.forEach((values, index) => {
      for (const [header, value] of Object.entries(values)) {
        const column = columns.get(header);
        if (column === undefined) throw new Error(`The sheet ${name} has no column ${header}`);
        sheet.getCell(index + 2, column).value = value;
      }
    });
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
