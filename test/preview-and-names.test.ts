import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, postChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

type PreviewRow = {
  row: number;
  iccid: string;
  outcome: 'would_succeed' | 'would_fail' | 'would_skip';
  code?: string;
  current?: string | null;
  target?: string;
  alreadyInTarget?: true;
};
type Preview = {
  dryRun: true;
  summary: { total: number; wouldSucceed: number; wouldFail: number; wouldSkip: number };
  estimate: {
    requests: number;
    requestsPerSecond: number | null;
    batchSize: number;
    seconds: number | null;
    waitingRows: number;
    lastRowNotBefore: string | null;
  };
  rows: PreviewRow[];
};
type Created = {
  id: string;
  name: string;
  nameGiven: boolean;
  counts: { total: number };
  skippedRows?: number;
  error?: { code: string };
};

for (const dialect of testDialects) {
  describe(`The preview's current → target, skipped lines, estimate and names, on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('shows current → target, skips lines already there when asked, estimates from the limits, and names the change', async () => {
      const fixture = await jasperFixture(test, {
        count: 5,
        state: 'ACTIVATED',
        prefix: '8901601',
        limits: { requestsPerSecond: 2 },
      });
      const account = await test.api<{ name: string }>(
        'GET',
        `/api/v1/carrier-accounts/${fixture.accountId}`,
      );
      const dryRun = (targetStatus: string, extra: Record<string, unknown> = {}) =>
        postChange(
          test,
          fixture.accountId,
          byIccid(fixture.iccids),
          'status_update',
          { targetStatus },
          {
            dryRun: true,
            ...extra,
          },
        ) as unknown as Promise<{ status: number; body: Preview; text: string }>;

      // Every line moves: current → target per row, and 5 requests at 2 per second take at least 3 s.
      const moving = await dryRun('deactivated', { skipAlreadyInTarget: true });
      assert.equal(moving.status, 200, moving.text);
      assert.deepEqual(moving.body.summary, { total: 5, wouldSucceed: 5, wouldFail: 0, wouldSkip: 0 });
      assert.deepEqual(
        moving.body.rows.map(({ outcome, current, target }) => ({ outcome, current, target })),
        Array(5).fill({ outcome: 'would_succeed', current: 'active', target: 'deactivated' }),
      );
      assert.deepEqual(moving.body.estimate, {
        requests: 5,
        requestsPerSecond: 2,
        batchSize: 1,
        seconds: 3,
        waitingRows: 0,
        lastRowNotBefore: null,
      });

      // Every line is already active: flagged and, with skipAlreadyInTarget, left out; nothing to send.
      const already = await dryRun('active', { skipAlreadyInTarget: true });
      assert.equal(already.status, 200, already.text);
      assert.deepEqual(already.body.summary, { total: 5, wouldSucceed: 0, wouldFail: 0, wouldSkip: 5 });
      for (const row of already.body.rows) {
        assert.equal(row.outcome, 'would_skip');
        assert.equal(row.code, 'ALREADY_IN_TARGET');
        assert.equal(row.alreadyInTarget, true);
        assert.equal(row.current, 'active');
      }
      assert.equal(already.body.estimate.requests, 0);
      // Without the option the rows are still flagged, and not left out (the API's default is unchanged).
      const flagged = await dryRun('active');
      assert.equal(flagged.status, 200, flagged.text);
      assert.equal(flagged.body.summary.wouldSkip, 0);
      assert.ok(
        flagged.body.rows.every((row) => row.alreadyInTarget === true && row.outcome !== 'would_skip'),
      );

      // A real submission of only skipped lines creates nothing.
      const nothing = await postChange(
        test,
        fixture.accountId,
        byIccid(fixture.iccids),
        'status_update',
        { targetStatus: 'active' },
        { skipAlreadyInTarget: true },
      );
      assert.equal(nothing.status, 422, nothing.text);
      assert.equal(nothing.body.error?.code, 'NOTHING_TO_CHANGE');
      const listed = await test.api<{ items: unknown[] }>(
        'GET',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}`,
      );
      assert.equal(listed.body.items.length, 0, 'nothing was created');

      // A given name is kept; two lines are deactivated by it.
      const named = await submitChange(
        test,
        fixture.accountId,
        byIccid(fixture.iccids.slice(0, 2)),
        'status_update',
        { targetStatus: 'deactivated' },
        { name: '  Night shift cleanup ' },
      );
      await waitForFinish(test, named);
      const first = await test.api<Created>('GET', `/api/v1/bulk-changes/${named}`);
      assert.equal(first.body.name, 'Night shift cleanup');
      assert.equal(first.body.nameGiven, true);

      // All five again: the two already deactivated are skipped, the other three sent; the name is made.
      const mixed = await postChange(
        test,
        fixture.accountId,
        byIccid(fixture.iccids),
        'status_update',
        { targetStatus: 'deactivated' },
        { skipAlreadyInTarget: true },
      );
      assert.equal(mixed.status, 201, mixed.text);
      const created = mixed.body as unknown as Created;
      assert.equal(created.counts.total, 3);
      assert.equal(created.skippedRows, 2);
      assert.equal(created.name, `Deactivate 3 lines on ${account.body.name}`);
      assert.equal(created.nameGiven, false);
      await waitForFinish(test, created.id);
      const calls = await simAdmin(fixture.simulatorUrl).calls();
      for (const iccid of fixture.iccids) {
        const sent = calls.filter((call) => call.iccids.includes(iccid) && call.method === 'PUT');
        assert.equal(sent.length, 1, `${iccid} was sent once, by the change that moved it`);
      }

      // The inventory's filters by rate plan and status find the lines.
      const devices = (query: string) =>
        test.api<{ items: Array<{ iccid: string }> }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${fixture.accountId}&${query}`,
        );
      assert.equal((await devices('status=deactivated')).body.items.length, 5);
      assert.equal((await devices('carrierRatePlan=IoT%20Basic%201MB')).body.items.length, 5);
      assert.equal((await devices('carrierRatePlan=nope')).body.items.length, 0);
      assert.equal((await devices('billingCustomerId=nobody')).body.items.length, 0);
    });
  });
}
