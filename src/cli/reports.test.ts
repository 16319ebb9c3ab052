import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dryRunSchema, errorAnswerSchema } from './api-answers.ts';
import { dryRunReport, refusalReport } from './reports.ts';

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

describe('the CLI dry-run report', () => {
  it('lists the rows that would wait, with until when and why, apart from those that would fail', () => {
    const report = dryRunSchema.parse({
      dryRun: true,
      summary: { total: 3, wouldSucceed: 2, wouldFail: 1, wouldSkip: 0 },
      estimate: { requests: 2, waitingRows: 1, lastRowNotBefore: '2026-12-04T00:00:00.000Z' },
      rows: [
        {
          row: 1,
          iccid: '89014720000000000011',
          outcome: 'would_succeed',
          notBefore: '2026-12-04T00:00:00.000Z',
          waitsFor: 'line_quota',
          message:
            'ThingSpace allows 5 provisioning actions per line a day; this line has had 5 this day (UTC)',
        },
        { row: 2, iccid: '89014720000000000029', outcome: 'would_succeed' },
        { row: 3, iccid: '123', outcome: 'would_fail', code: 'INVALID_LUHN', message: 'bad check digit' },
      ],
    });
    const text = dryRunReport(report);
    assert.match(text, /^Dry run: 3 rows; 2 would succeed, 1 would fail\.$/m);
    assert.match(
      text,
      /Rows that would wait before they are sent:\nrow 1\s+89014720000000000011\s+2026-12-04T00:00:00\.000Z\s+ThingSpace allows 5 provisioning actions/,
    );
    assert.doesNotMatch(text, /89014720000000000029/, 'a row that goes at once is not listed');
    assert.match(text, /Rows that would fail:\nrow 3\s+123\s+INVALID_LUHN/);
  });
});
