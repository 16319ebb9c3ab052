import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, changesOf, postChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { serviceForSuite, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Change = { iccid: string; error: { code: string; carrierCode?: string } | null };
type Refusal = { error?: { details: Array<{ row: number; code: string; message: string }> } };

/** The next UTC midnight, when ThingSpace's daily count starts again. */
const tomorrow = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
};

for (const dialect of testDialects) {
  describe(`ThingSpace per-line quotas on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('counts the carrier’s own quota refusals: a line it refused today is refused at intake, with when to submit again', async () => {
      // The carrier allows one action a day here: as if four had been made outside bulkchange.
      const lines = await thingSpaceLines(test, {
        prefix: '8901472',
        count: 2,
        state: 'active',
        simulator: { provisioningActionsPerDay: 1 },
        // The refusal's code comes with the callback (a request's polled status says only "Failed"):
        // polled late, the callback is sure to come first.
        limits: { checkIntervalMs: 10_000 },
      });
      const [refusedLine, otherLine] = lines.iccids;
      const suspend = await submitChange(test, lines.accountId, byIccid([refusedLine]), 'status_update', {
        targetStatus: 'suspended',
      });
      assert.equal((await waitForFinish(test, suspend, 30_000)).status, 'completed');
      const restore = await submitChange(test, lines.accountId, byIccid([refusedLine]), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, restore, 30_000)).status, 'failed');
      const [refusal] = await changesOf<Change>(test, restore);
      assert.match(refusal.error?.carrierCode ?? '', /ProvisioningLimitExceeded$/, JSON.stringify(refusal));

      // Our history has two actions on the line (of five); the carrier's answer says the day is spent.
      const again = await postChange(
        test,
        lines.accountId,
        byIccid([refusedLine, otherLine]),
        'status_update',
        {
          targetStatus: 'suspended',
        },
      );
      assert.equal(again.status, 422, again.text);
      const details = (again.body as Refusal).error?.details ?? [];
      assert.deepEqual(
        details.map((detail) => [detail.row, detail.code]),
        [[1, 'CARRIER_RULE']],
      );
      assert.match(
        details[0].message,
        /ThingSpace allows 5 provisioning actions per line a day; the carrier refused this line this day/,
      );
      assert.ok(details[0].message.endsWith(`Submit it again from ${tomorrow()}`), details[0].message);
      const calls = (await lines.calls()).filter((call) => call.iccids.includes(refusedLine));
      assert.equal(
        calls.filter((call) => ['suspend', 'restore'].includes(call.action)).length,
        2,
        'nothing more was sent for the line',
      );
    });
  });
}
