import { z } from 'zod';
import type { RowIssue } from './flow.ts';

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

export type Checked = { value: string; issue?: undefined } | { value?: undefined; issue: RowIssue };

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
    const restored = `89${value}`;
    const lostPrefix =
      !value.startsWith('89') && restored.length >= 19 && restored.length <= 20 && luhnValid(restored);
    const hint = lostPrefix
      ? ` (its leading 89 seems lost: ${restored} would be valid; format the column as text)`
      : '';
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

const scientificIssue = (field: string, value: string, what: string): Checked => ({
  issue: {
    field,
    code: 'SCIENTIFIC_NOTATION',
    message: `"${value}" is an ${what} that a spreadsheet turned into a number and rounded; format the column as text and export again`,
  },
});

/**
 * IMEI: 15 digits with a Luhn check digit. A 14-digit IMEI (the check digit left off, as some exports
 * do) gets its check digit computed when `complete` is set, i.e. when the carrier expects 15.
 */
export function checkImei(raw: unknown, field = 'imei', complete = true): Checked {
  const value = cleanIdentifier(raw);
  if (SCIENTIFIC.test(value)) return scientificIssue(field, value, 'IMEI');
  if (!/^\d+$/.test(value)) {
    return {
      issue: { field, code: 'INVALID_IMEI', message: `"${value}" is not an IMEI: it must be digits only` },
    };
  }
  if (value.length === 14 && luhnValid(`0${value}`)) {
    return {
      issue: {
        field,
        code: 'LEADING_ZERO_LOST',
        message: `IMEI ${value} has 14 digits and 0${value} is a valid IMEI: a spreadsheet dropped its leading zero; format the column as text and export again`,
      },
    };
  }
  if (value.length === 14 && complete) return { value: value + luhnCheckDigit(value) };
  if (value.length !== 15) {
    return {
      issue: {
        field,
        code: 'INVALID_IMEI',
        message: `An IMEI has 15 digits; "${value}" has ${value.length}`,
      },
    };
  }
  if (!luhnValid(value)) {
    return { issue: { field, code: 'INVALID_LUHN', message: `IMEI ${value} fails its check digit (Luhn)` } };
  }
  return { value };
}

/**
 * MSISDN: digits, an optional leading `+`; separators people type (spaces, dashes, dots, brackets) are
 * dropped. North American numbers are kept as their 10 national digits (a leading country code 1 is
 * dropped), others as E.164 digits (8–15).
 */
export function checkMsisdn(raw: unknown, field = 'msisdn'): Checked {
  const cleaned = cleanIdentifier(raw);
  if (SCIENTIFIC.test(cleaned)) return scientificIssue(field, cleaned, 'MSISDN');
  const international = cleaned.startsWith('+');
  const digits = cleaned.replace(/^\+/, '').replace(/[\s().-]/g, '');
  if (!/^\d+$/.test(digits)) {
    return {
      issue: {
        field,
        code: 'INVALID_MSISDN',
        message: `"${cleaned}" is not a phone number: digits and an optional + only`,
      },
    };
  }
  if (digits.length === 11 && digits.startsWith('1')) return { value: digits.slice(1) };
  if (digits.length === 10 && !international) {
    if (/^[01]/.test(digits)) {
      return {
        issue: {
          field,
          code: 'INVALID_MSISDN',
          message: `${digits} is not a North American number: the area code cannot start with 0 or 1`,
        },
      };
    }
    return { value: digits };
  }
  if (international && digits.length >= 8 && digits.length <= 15) return { value: digits };
  return {
    issue: {
      field,
      code: 'INVALID_MSISDN',
      message: `"${cleaned}" is not a phone number: give 10 digits, or + and the country code (8–15 digits)`,
    },
  };
}

/**
 * The forms a checked MSISDN may be stored in: a North American number as its 10 digits or, as
 * ThingSpace reports it, with the country code 1 in front.
 */
export const msisdnForms = (msisdn: string): string[] =>
  /^\d{10}$/.test(msisdn) ? [msisdn, `1${msisdn}`] : [msisdn];

/** EID: 32 digits whose last two are the ISO 7064 mod 97-10 check digits (GSMA SGP.29). */
export function checkEid(raw: unknown, field = 'eid'): Checked {
  const value = cleanIdentifier(raw);
  if (SCIENTIFIC.test(value)) return scientificIssue(field, value, 'EID');
  if (!/^\d{32}$/.test(value)) {
    return {
      issue: {
        field,
        code: 'INVALID_EID',
        message: `An EID has 32 digits; "${value}" has ${value.replace(/\D/g, '').length} digits`,
      },
    };
  }
  if (mod97(value) !== 1) {
    return { issue: { field, code: 'INVALID_EID', message: `EID ${value} fails its check digits (mod 97)` } };
  }
  return { value };
}

const mod97 = (digits: string): number => {
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  return remainder;
};

/** Completes 30 digits into an EID (for test and demo data). */
export function eidWithCheckDigits(payload30: string): string {
  const check = 98 - mod97(`${payload30}00`);
  return payload30 + String(check).padStart(2, '0');
}

/** A zod field that checks and normalises an identifier with one of the functions above. */
export const identifierField = (check: (raw: unknown, field?: string) => Checked, field: string) =>
  z.string().transform((raw, ctx) => {
    const checked = check(raw, field);
    if (checked.issue) {
      ctx.addIssue({ code: 'custom', message: checked.issue.message, params: { code: checked.issue.code } });
      return z.NEVER;
    }
    return checked.value;
  });
