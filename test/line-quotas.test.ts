import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { byIccid, changesOf, postChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { serviceForSuite, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Change = {
  iccid: string;
  status: string;
  step: string;
  nextCheckAt: string | null;
  updatedAt: string;
  error: { code: string; carrierCode?: string } | null;
};
type Preview = {
  rows: Array<{ row: number; outcome: string; waitsFor?: string; notBefore?: string; message?: string }>;
  estimate: { waitingRows: number; lastRowNotBefore: string | null };
};

/**
 * The quota's period in these tests (`LINE_QUOTA_PERIOD_MS`): ThingSpace counts per UTC day, which a
 * test cannot wait for; `src/carriers/line-quotas.test.ts` checks the UTC calendar itself.
 */
const PERIOD_MS = 40_000;
const periodEnd = (at = Date.now()) => at - (at % PERIOD_MS) + PERIOD_MS;

/** Waits for a period to begin unless `needMs` of this one are left: what follows stays within one. */
async function freshPeriod(needMs: number): Promise<void> {
  const left = periodEnd() - Date.now();
  if (left < needMs) await sleep(left + 50);
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const dialect of testDialects) {
  describe(`ThingSpace per-line quotas on ${dialect}`, () => {
    const test = serviceForSuite(dialect, { LINE_QUOTA_PERIOD_MS: String(PERIOD_MS) });

    const preview = async (accountId: string, iccids: string[], targetStatus: string) => {
      const answer = await postChange(
        test,
        accountId,
        byIccid(iccids),
        'status_update',
        { targetStatus },
        {
          dryRun: true,
        },
      );
      assert.equal(answer.status, 200, answer.text);
      return answer.body as unknown as Preview;
    };

    it('accepts a row for a line with 5 provisioning actions this period, previews it waiting, and sends it once the quota is whole again', async () => {
      // The carrier's own day is not the test's period: it must not refuse the sixth action itself.
      const lines = await thingSpaceLines(test, {
        prefix: '8901473',
        count: 1,
        state: 'active',
        simulator: { provisioningActionsPerDay: 100 },
      });
      const [line] = lines.iccids;
      await freshPeriod(30_000);
      const end = periodEnd();
      for (const targetStatus of ['suspended', 'active', 'suspended', 'active', 'suspended']) {
        const id = await submitChange(test, lines.accountId, [{ iccid: line }], 'status_update', {
          targetStatus,
        });
        assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      }
      assert.equal(periodEnd(), end, 'the five actions and the check fall in one period');

      const report = await preview(lines.accountId, [line], 'active');
      const [row] = report.rows;
      assert.equal(row.outcome, 'would_succeed', JSON.stringify(row));
      assert.equal(row.waitsFor, 'line_quota');
      assert.equal(row.notBefore, new Date(end).toISOString());
      assert.match(
        row.message ?? '',
        /^ThingSpace allows 5 provisioning actions per line a day; this line has had 5 this day \(UTC\)\. It waits until /,
      );
      assert.deepEqual(report.estimate.waitingRows, 1);
      assert.equal(report.estimate.lastRowNotBefore, new Date(end).toISOString());

      const created = await postChange(test, lines.accountId, [{ iccid: line }], 'status_update', {
        targetStatus: 'active',
      });
      assert.equal(created.status, 201, created.text);
      // Every row waits: the bulk change is scheduled for when the first may go.
      assert.equal(created.body.scheduledFor, new Date(end).toISOString());
      const [waiting] = await changesOf<Change>(test, created.body.id);
      assert.equal(waiting.status, 'queued');
      assert.equal(waiting.nextCheckAt, new Date(end).toISOString());
      const restores = async () =>
        (await lines.calls('restore')).filter((call) => call.iccids.includes(line));
      assert.equal((await restores()).length, 2, 'the sixth action is not sent before the quota frees it');

      assert.equal((await waitForFinish(test, created.body.id, PERIOD_MS + 30_000)).status, 'completed');
      const sent = await restores();
      assert.equal(sent.length, 3);
      assert.ok(Date.parse(sent[2].at) >= end, `sent at ${sent[2].at}, the quota freed at ${end}`);
    });

    it('puts a row the carrier refuses for its quota back to wait, and counts that refusal at intake', async () => {
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
      const refused = await until('the carrier’s refusal', async () => {
        const [change] = await changesOf<Change>(test, restore);
        return change.error?.carrierCode ? change : undefined;
      });
      assert.match(refused.error?.carrierCode ?? '', /ProvisioningLimitExceeded$/, JSON.stringify(refused));
      assert.equal(refused.error?.code, 'CARRIER_RULE');
      // Not failed: back in the queue at the step it started at, until the quota's next period.
      assert.equal(refused.status, 'queued', JSON.stringify(refused));
      assert.equal(refused.step, 'restore');
      const wakes = Date.parse(refused.nextCheckAt ?? '');
      assert.equal(wakes % PERIOD_MS, 0, `waits until a period begins: ${refused.nextCheckAt}`);
      assert.ok(
        wakes > Date.parse(refused.updatedAt),
        `waits until after the refusal: ${refused.nextCheckAt}`,
      );
      const restoreView = await test.api<{ status: string; counts: { failed: number } }>(
        'GET',
        `/api/v1/bulk-changes/${restore}`,
      );
      assert.equal(restoreView.body.counts.failed, 0, restoreView.text);
      assert.notEqual(restoreView.body.status, 'failed');

      const cancelled = await test.api('POST', `/api/v1/bulk-changes/${restore}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);

      // Our history has two actions on the line (of five); the carrier's answer says the period is spent.
      const report = await preview(lines.accountId, [refusedLine, otherLine], 'suspended');
      const [first, second] = report.rows;
      assert.equal(first.outcome, 'would_succeed', JSON.stringify(first));
      assert.equal(first.waitsFor, 'line_quota');
      assert.match(
        first.message ?? '',
        /ThingSpace allows 5 provisioning actions per line a day; the carrier refused this line this day/,
      );
      const notBefore = Date.parse(first.notBefore ?? '');
      assert.equal(notBefore % PERIOD_MS, 0);
      assert.ok(notBefore > Date.now() && notBefore <= Date.now() + PERIOD_MS, first.notBefore);
      assert.deepEqual(
        [second.outcome, second.waitsFor, second.notBefore],
        ['would_succeed', undefined, undefined],
      );
      assert.equal(report.estimate.waitingRows, 1);
      assert.equal(report.estimate.lastRowNotBefore, first.notBefore);
    });
  });
}
