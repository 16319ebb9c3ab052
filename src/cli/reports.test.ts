import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorAnswerSchema } from './api-answers.ts';
import { refusalReport } from './reports.ts';

describe('a refusal as the CLI prints it', () => {
  it("names the sheet of an activation workbook's problems, and the file for a problem with no row", () => {
    // As the API answers a workbook whose sheets disagree (docs/errors.md): `sheet` is kept.
    const { error } = errorAnswerSchema.parse({
      error: {
        code: 'VALIDATION_FAILED',
        message: '1 of 2 rows have problems and the file has problems; nothing was created',
        details: [
          {
            sheet: 'Activations',
            row: 2,
            field: 'imei',
            code: 'INVALID_IMEI',
            message: 'An IMEI is 15 digits',
          },
          {
            sheet: 'Customer assignment',
            row: 1,
            field: 'iccid',
            code: 'ASSIGNMENT_WITHOUT_ACTIVATION',
            message: 'No row of the Activations sheet activates SIM 8901',
          },
          { sheet: 'Customer assignment', field: 'rate', code: 'UNKNOWN_COLUMN', message: 'Column "rate"' },
          { row: 3, field: 'iccid', code: 'INVALID_LUHN', message: 'Check digit' },
          { field: 'plan', code: 'UNKNOWN_COLUMN', message: 'Column "plan"' },
        ],
      },
    });
    const lines = refusalReport(422, error).trimEnd().split('\n');
    assert.equal(
      lines[0],
      'Refused (422 VALIDATION_FAILED): 1 of 2 rows have problems and the file has problems; nothing was created',
    );
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/ {2,}/).slice(0, 3)),
      [
        ['Activations row 2', 'imei', 'INVALID_IMEI'],
        ['Customer assignment row 1', 'iccid', 'ASSIGNMENT_WITHOUT_ACTIVATION'],
        ['Customer assignment', 'rate', 'UNKNOWN_COLUMN'],
        ['row 3', 'iccid', 'INVALID_LUHN'],
        ['file', 'plan', 'UNKNOWN_COLUMN'],
      ],
    );
  });
});
