import type { Cell } from './csv-input.ts';

/**
 * The largest integer a spreadsheet keeps exactly: Excel stores 15 significant digits, so a 19-digit
 * ICCID (or a 32-digit EID) typed into a Number cell has already lost its last digits when we read it.
 * A 15-digit IMEI still fits.
 */
const EXACT_DIGITS = 15;

const unreadable = (message: string): Cell => ({ code: 'UNREADABLE_CELL', message });

/**
 * One XLSX cell's value (as exceljs reads it) as the text a CSV cell would hold, so both formats feed
 * the same checks: numbers as their digits, dates as ISO dates (a time only when there is one), booleans
 * as `true` / `false`, a formula as its cached value. What we cannot read exactly is a problem of the
 * row, never a guess: a formula without a cached value, an error value, a number too long to be exact.
 */
export function cellText(value: unknown): Cell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numberText(value);
  if (value instanceof Date) return dateText(value);
  if (typeof value !== 'object') return unreadable(`The cell holds a value of type ${typeof value}`);
  const cell = value as Record<string, unknown>;
  if (Array.isArray(cell.richText))
    return (cell.richText as Array<{ text?: unknown }>)
      .map((run) => (typeof run.text === 'string' ? run.text : ''))
      .join('')
      .trim();
  if ('formula' in cell || 'sharedFormula' in cell) {
    if (cell.result === undefined || cell.result === null)
      return unreadable(
        'The cell is a formula with no saved value: open the workbook in a spreadsheet and save it again, or paste the values',
      );
    return cellText(cell.result);
  }
  if ('error' in cell) return unreadable(`The cell holds the error ${String(cell.error)}`);
  if (typeof cell.text === 'string') return cell.text.trim();
  return unreadable('The cell holds a value that cannot be read as text');
}

function numberText(value: number): Cell {
  if (!Number.isFinite(value)) return unreadable('The cell holds an error or a number that cannot be read');
  if (Number.isInteger(value) && Math.abs(value) >= 10 ** EXACT_DIGITS)
    return {
      code: 'NUMBER_NOT_EXACT',
      message: `The cell holds the number ${value.toExponential()}: a spreadsheet keeps only ${EXACT_DIGITS} digits of a number, so an ICCID or EID typed as a number has lost its last digits. Format the column as Text and enter the values again`,
    };
  return String(value);
}

/** A date without a time (midnight, as a date-formatted cell holds it) is the date alone. */
function dateText(value: Date): Cell {
  if (Number.isNaN(value.getTime())) return unreadable('The cell holds a date that cannot be read');
  const iso = value.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}
