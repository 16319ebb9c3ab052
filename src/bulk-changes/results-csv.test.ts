import assert from 'node:assert/strict';
import { it } from 'node:test';
import { resultColumnValues } from './result-columns.ts';
import { resultsHeader } from './results-csv.ts';
import { escapeFormula } from './table-files.ts';

it('escapes cells a spreadsheet would run as formulas, and only those', () => {
  for (const cell of ['=HYPERLINK("x")', '+1', '-2+3', '@SUM(A1)', '\tx'])
    assert.equal(escapeFormula(cell), `'${cell}`);
  for (const cell of ['89014103211118510720', 'active', '', 'a=b']) assert.equal(escapeFormula(cell), cell);
});

it('puts what a row produced in columns of their own, wherever its flow put it in the result', () => {
  const row = (
    result: Record<string, unknown> | null,
    request = {},
    carrierRequestId: string | null = null,
  ) => resultColumnValues({ result, request, carrierRequestId });
  // A Telegence SIM swap keeps the old identifiers in `previous`; ThingSpace says `newIccid`.
  const telegence = row({ previous: { iccid: '8901', imei: '3500' }, iccid: '8902' }, { newIccid: '8902' });
  assert.equal(telegence.previousIccid, '8901');
  assert.equal(telegence.newIccid, '8902');
  assert.equal(telegence.previousImei, '3500');
  assert.equal(telegence.newImei, null);
  assert.equal(row({ newIccid: '8903', action: 'change_identifier' }).newIccid, '8903');
  // A new line: its number and address; the request id from the row, else the flow's own name for it.
  const activated = row({ msisdn: '5551230000', ipAddress: '10.0.0.7', activationId: 'A-1' }, {}, null);
  assert.equal(activated.newMsisdn, '5551230000');
  assert.equal(activated.ipAddress, '10.0.0.7');
  assert.equal(activated.carrierRequestId, 'A-1');
  assert.equal(row({ requestId: 'teal-9' }, {}, 'req-1').carrierRequestId, 'req-1');
  // The plan the carrier confirmed wins over the one asked for; the target status is what was asked.
  assert.equal(row({ carrierRatePlan: 'B' }, { carrierRatePlan: 'A' }).ratePlan, 'B');
  assert.equal(row(null, { ratePlan: 'TG-1', targetStatus: 'active' }).ratePlan, 'TG-1');
  assert.equal(row(null, { targetStatus: 'suspended' }).targetStatus, 'suspended');
  assert.equal(row({ billingServiceId: 42 }).billingServiceId, '42');
  // A released line's number is null, not the text "null".
  assert.equal(row({ msisdn: null }).newMsisdn, null);
});

it('lists the documented columns first, in their order, then the explicit ones', () => {
  assert.deepEqual(resultsHeader.slice(0, 11), [
    'row',
    'iccid',
    'imei',
    'msisdn',
    'eid',
    'status',
    'error_code',
    'error_message',
    'carrier_code',
    'result',
    'calls',
  ]);
  assert.ok(resultsHeader.includes('new_msisdn') && resultsHeader.includes('carrier_request_id'));
});
