import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cellText } from './xlsx-cells.ts';

it('reads an XLSX cell as the text a CSV cell would hold', () => {
  assert.equal(cellText('  89014103211118510720 '), '89014103211118510720');
  assert.equal(cellText(null), '');
  assert.equal(cellText(true), 'true');
  assert.equal(cellText(250), '250');
  assert.equal(cellText(12.5), '12.5');
  // A 15-digit IMEI typed as a number is still exact.
  assert.equal(cellText(356938035643809), '356938035643809');
  assert.equal(cellText(new Date('2026-12-24T00:00:00Z')), '2026-12-24');
  assert.equal(cellText(new Date('2026-12-24T08:30:00Z')), '2026-12-24T08:30:00.000Z');
  assert.equal(cellText({ richText: [{ text: 'act' }, { text: 'ive' }] }), 'active');
  assert.equal(cellText({ text: 'Plan A', hyperlink: 'https://example.com' }), 'Plan A');
  assert.equal(cellText({ formula: 'LOWER(B2)', result: 'active' }), 'active');
  assert.equal(cellText({ sharedFormula: 'B2', result: 7 }), '7');
});

it('refuses what it cannot read exactly, rather than guess', () => {
  const code = (value: unknown) => {
    const cell = cellText(value);
    return typeof cell === 'string' ? cell : cell.code;
  };
  assert.equal(code(8.901410321111851e19), 'NUMBER_NOT_EXACT');
  assert.equal(code(1e15), 'NUMBER_NOT_EXACT');
  assert.equal(code({ formula: 'A1' }), 'UNREADABLE_CELL');
  assert.equal(code({ formula: 'A1', result: Number.NaN }), 'UNREADABLE_CELL');
  assert.equal(code({ error: '#REF!' }), 'UNREADABLE_CELL');
  assert.equal(code({ formula: 'A1', result: { error: '#N/A' } }), 'UNREADABLE_CELL');
  assert.equal(code(new Date(Number.NaN)), 'UNREADABLE_CELL');
  assert.equal(code({ unknown: 1 }), 'UNREADABLE_CELL');
});
