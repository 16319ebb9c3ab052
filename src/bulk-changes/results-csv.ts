/**
 * A cell that begins with = + - @ (or a tab / carriage return) would run as a formula when the results
 * are opened in a spreadsheet; a leading apostrophe makes it text.
 */
export const escapeFormula = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
