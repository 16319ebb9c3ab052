import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkIccid, luhnCheckDigit, luhnValid } from './identifiers.ts';

describe('identifiers', () => {
  it('accepts a valid ICCID, trimming quotes, spaces and a trailing F', () => {
    assert.equal(checkIccid(' "8988216716970004973" ').value, '8988216716970004973');
    assert.equal(checkIccid('8988216716970004973F').value, '8988216716970004973');
  });

  it('explains an Excel-mangled ICCID', () => {
    assert.equal(checkIccid('8.98821E+18').issue?.code, 'SCIENTIFIC_NOTATION');
  });

  it('rejects wrong lengths, letters and bad check digits', () => {
    assert.equal(checkIccid('898821671697000497').issue?.code, 'INVALID_ICCID');
    assert.equal(checkIccid('89882167169700049AB').issue?.code, 'INVALID_ICCID');
    assert.equal(checkIccid('8988216716970004975').issue?.code, 'INVALID_LUHN');
  });

  it('computes check digits that Luhn accepts, for any payload', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{18,19}$/), (payload) =>
        luhnValid(payload + luhnCheckDigit(payload)),
      ),
    );
  });
});
