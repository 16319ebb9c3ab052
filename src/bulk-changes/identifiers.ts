import type { RowIssue } from '../carriers/carrier.ts';

/** The Luhn (mod 10) check used by ICCIDs and IMEIs. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The check digit that makes `payload` + digit pass Luhn. */
export function luhnCheckDigit(payload: string): string {
  for (let digit = 0; digit <= 9; digit++) if (luhnValid(payload + digit)) return String(digit);
  throw new Error('unreachable');
}

const SCIENTIFIC = /^\d(\.\d+)?e\+?\d+$/i;

/** Stray spaces and quotes around a value (a common spreadsheet artefact) are safe to drop. */
export const cleanIdentifier = (value: unknown): string =>
  String(value ?? '')
    .trim()
    .replace(/^['"]+|['"]+$/g, '')
    .trim();

type Checked = { value: string; issue?: undefined } | { value?: undefined; issue: RowIssue };

/** ICCID: 19–20 digits (an optional trailing F is dropped) with a valid Luhn check digit. */
export function checkIccid(raw: unknown, field = 'iccid'): Checked {
  const value = cleanIdentifier(raw).replace(/[fF]$/, '');
  if (SCIENTIFIC.test(value)) {
    return {
      issue: {
        field,
        code: 'SCIENTIFIC_NOTATION',
        message: `"${value}" is an ICCID that a spreadsheet turned into a number and rounded; format the column as text and export again`,
      },
    };
  }
  if (!/^\d+$/.test(value)) {
    return {
      issue: { field, code: 'INVALID_ICCID', message: `"${value}" is not an ICCID: it must be digits only` },
    };
  }
  if (value.length < 19 || value.length > 20) {
    const hint = value.length === 18 && !value.startsWith('89') ? ' (a leading 89 may have been lost)' : '';
    return {
      issue: {
        field,
        code: 'INVALID_ICCID',
        message: `An ICCID has 19 or 20 digits; "${value}" has ${value.length}${hint}`,
      },
    };
  }
  if (!luhnValid(value)) {
    return { issue: { field, code: 'INVALID_LUHN', message: `ICCID ${value} fails its check digit (Luhn)` } };
  }
  return { value };
}
