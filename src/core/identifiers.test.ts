import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkEid,
  checkIccid,
  checkImei,
  checkMsisdn,
  eidWithCheckDigits,
  luhnCheckDigit,
  luhnValid,
} from './identifiers.ts';

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

  it('completes a 14-digit IMEI, unless it is a 15-digit one that lost its leading zero', () => {
    const payload = '35391108000123';
    assert.equal(checkImei(payload).value, payload + luhnCheckDigit(payload));
    assert.equal(checkImei(payload, 'imei', false).issue?.code, 'INVALID_IMEI');
    const zeroLed = `0${'1234567890123'}`;
    const full = zeroLed + luhnCheckDigit(zeroLed);
    assert.equal(checkImei(full.slice(1)).issue?.code, 'LEADING_ZERO_LOST');
    assert.equal(checkImei('3.5391108E+13').issue?.code, 'SCIENTIFIC_NOTATION');
    assert.equal(checkImei(`${payload}0`).issue?.code === undefined, luhnValid(`${payload}0`));
  });

  it('normalises MSISDNs: North American numbers to 10 digits, others to E.164 digits', () => {
    assert.equal(checkMsisdn('+1 (214) 555-0100').value, '2145550100');
    assert.equal(checkMsisdn('2145550100').value, '2145550100');
    assert.equal(checkMsisdn('+44 7700 900123').value, '447700900123');
    assert.equal(checkMsisdn('0145550100').issue?.code, 'INVALID_MSISDN');
    assert.equal(checkMsisdn('12345').issue?.code, 'INVALID_MSISDN');
    assert.equal(checkMsisdn('2.14555E+9').issue?.code, 'SCIENTIFIC_NOTATION');
  });

  it('checks EIDs: 32 digits with mod-97 check digits', () => {
    const eid = eidWithCheckDigits('890490320030988247000000000001');
    assert.equal(checkEid(eid).value, eid);
    assert.equal(checkEid(`${eid.slice(0, -1)}${(Number(eid.at(-1)) + 1) % 10}`).issue?.code, 'INVALID_EID');
    assert.equal(checkEid(eid.slice(1)).issue?.code, 'INVALID_EID');
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{30}$/),
        (payload) => checkEid(eidWithCheckDigits(payload)).value !== undefined,
      ),
    );
  });
});
