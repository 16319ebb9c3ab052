import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eidWithCheckDigits } from '../src/core/identifiers.ts';
import { changesOf, postChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { serviceForSuite, testIccid, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Line = { id: string; iccid: string; msisdn: string | null; customerRatePlanId: string | null };

for (const dialect of testDialects) {
  describe(`Identifier change keyed by EID or MSISDN on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('swaps SIMs of lines named by EID and by MSISDN, then sets the customer rate plan in a linked change', async () => {
      const lines = await thingSpaceLines(test, { prefix: '8901730', count: 4, state: 'active' });
      const eids = lines.iccids.map((_, index) =>
        eidWithCheckDigits(`890490320030988247${String(index).padStart(12, '0')}`),
      );
      await lines.seed(lines.iccids.map((iccid, index) => ({ iccid, eid: eids[index] })));
      // The inventory knows each line's EID and number as the carrier does; lines 2 and 3 share a number.
      const carrier = await lines.devices<{ iccid: string; msisdn: string }>();
      const numberOf = new Map(carrier.map((line) => [line.iccid, line.msisdn]));
      for (const [index, iccid] of lines.iccids.entries()) {
        await test.service.database.db
          .updateTable('devices')
          .set({ eid: eids[index], msisdn: numberOf.get(index === 3 ? lines.iccids[2] : iccid) ?? null })
          .where('iccid', '=', iccid)
          .execute();
      }
      const saved = await test.api('POST', '/api/v1/customer-rate-plans', {
        body: { items: [{ id: 'CRP-7', name: 'Fleet 7 GB' }] },
      });
      assert.equal(saved.status, 200, saved.text);
      const newIccids = [testIccid(0, '8901731'), testIccid(1, '8901731')];

      // Lines that cannot be found, or not told apart, are refused row by row; nothing is created.
      const unknownEid = eidWithCheckDigits('890490320030988247999999999999');
      const refused = await postChange(
        test,
        lines.accountId,
        [
          { eid: unknownEid, newIccid: newIccids[0] },
          { msisdn: numberOf.get(lines.iccids[2]), newIccid: newIccids[1] },
          { newIccid: newIccids[1] },
          { eid: eids[0], newIccid: newIccids[0] },
          { iccid: lines.iccids[0], newIccid: newIccids[1] },
        ],
        'identifier_change',
      );
      assert.equal(refused.status, 422, refused.text);
      const details = refused.body.error?.details.map(({ row, field, code }) => ({ row, field, code }));
      assert.deepEqual(details, [
        { row: 3, field: 'iccid', code: 'REQUIRED' },
        { row: 1, field: 'eid', code: 'DEVICE_NOT_FOUND' },
        { row: 2, field: 'msisdn', code: 'AMBIGUOUS_LINE' },
        { row: 5, field: 'iccid', code: 'DUPLICATE_ROW' },
      ]);
      assert.match(String(refused.body.error?.details[0].message), /iccid \(or eid or msisdn\) is required/);

      const swap = await submitChange(
        test,
        lines.accountId,
        [
          { eid: eids[0], newIccid: newIccids[0], customerRatePlanId: 'CRP-7' },
          { msisdn: numberOf.get(lines.iccids[1]), newIccid: newIccids[1] },
        ],
        'identifier_change',
      );
      const done = await waitForFinish(test, swap, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const rows = await changesOf<{ iccid: string; eid: string | null }>(test, swap);
      assert.deepEqual(
        rows.map((row) => row.iccid),
        lines.iccids.slice(0, 2),
        'each row carries the line it named',
      );

      // The carrier swapped each SIM, one request a line, under the line's ICCID.
      const swaps = await lines.calls('change_identifier');
      assert.equal(swaps.length, 2);
      for (const [index, newIccid] of newIccids.entries()) {
        const atCarrier = await (await fetch(`${lines.simulatorUrl}/_sim/devices?iccid=${newIccid}`)).json();
        assert.equal((atCarrier as unknown[]).length, 1, `the carrier has line ${index} as ${newIccid}`);
      }

      // The linked customer rate plan change ran for the row that asked for it, on the swapped line.
      const linkedId = String(done.linkedId);
      const linked = await waitForFinish(test, linkedId, 30_000);
      assert.equal(linked.status, 'completed');
      assert.equal(linked.changeType, 'customer_rate_plan_change');
      assert.equal(linked.counts.total, 1);
      const inventory = await test.api<{ items: Line[] }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${lines.accountId}&limit=10`,
      );
      const byIccid = new Map(inventory.body.items.map((line) => [line.iccid, line]));
      assert.equal(byIccid.get(newIccids[0])?.customerRatePlanId, 'CRP-7');
      assert.equal(byIccid.get(newIccids[1])?.customerRatePlanId, null);
      const history = await test.api<{
        items: Array<{ field: string; after: string; bulkChangeId: string }>;
      }>('GET', `/api/v1/devices/${newIccids[0]}/history`);
      assert.deepEqual(
        history.body.items.map(({ field, after, bulkChangeId }) => ({ field, after, bulkChangeId })),
        [
          { field: 'customerRatePlanId', after: 'CRP-7', bulkChangeId: linkedId },
          { field: 'iccid', after: newIccids[0], bulkChangeId: swap },
        ],
      );
    });
  });
}
