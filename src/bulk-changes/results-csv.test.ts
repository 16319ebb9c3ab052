import assert from 'node:assert/strict';
import { it } from 'node:test';
import { escapeFormula } from './results-csv.ts';

it('escapes cells a spreadsheet would run as formulas, and only those', () => {
  for (const cell of ['=HYPERLINK("x")', '+1', '-2+3', '@SUM(A1)', '\tx'])
    assert.equal(escapeFormula(cell), `'${cell}`);
  for (const cell of ['89014103211118510720', 'active', '', 'a=b']) assert.equal(escapeFormula(cell), cell);
});
