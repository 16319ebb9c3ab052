import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rowsRepository } from '../src/engine/rows-repository.ts';
import { newId } from '../src/shared/ids.ts';
import { byIccid, changesOf, countsDrift, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

interface Change {
  iccid: string;
  status: string;
  error: { code: string; message: string } | null;
}

/**
 * Dead workers, as the engine finds them: each claim below is made at a moment of the past and never
 * committed, so the next one finds its rows `in_progress`, still claimed, their lease run out.
 */
function deadWorkers(test: TestService, bulkChangeId: string) {
  const { db, capabilities } = test.service.database;
  const rows = rowsRepository(db, capabilities);
  let now = Date.now() - 600_000;
  const claim = () => {
    now += 10;
    return { bulkChangeId, now, attemptId: newId(), leaseUntil: now + 1 };
  };
  return {
    /** A worker claims the change's queued rows to send them, and dies. */
    diesSending: async () => {
      const { step } = await db
        .selectFrom('device_changes')
        .select('step')
        .where('bulk_change_id', '=', bulkChangeId)
        .executeTakeFirstOrThrow();
      await rows.claimDue({ ...claim(), status: 'queued', step, limit: 100 });
    },
    /** A worker re-leases the stale rows to read them, in one chunk, and dies. */
    diesReadingChunk: () => rows.claimStale({ ...claim(), limit: 200, isolating: false }),
    /** A worker takes the most-crashed stale row alone (the engine's isolating claim), and dies. */
    diesReadingAlone: () => rows.claimStale({ ...claim(), limit: 1, isolating: true }),
    counters: () =>
      db
        .selectFrom('device_changes')
        .select(['row_number', 'crashes', 'crashes_alone', 'held_alone'])
        .where('bulk_change_id', '=', bulkChangeId)
        .orderBy('row_number')
        .execute()
        .then((found) =>
          found.map((row) => ({
            row: row.row_number,
            crashes: Number(row.crashes),
            alone: Number(row.crashes_alone),
            heldAlone: Number(row.held_alone),
          })),
        ),
  };
}

for (const dialect of testDialects) {
  describe(`rows whose workers died, on ${dialect}`, () => {
    let test: TestService;
    before(async () => {
      test = await startTestService(dialect);
    });
    after(() => test.stop());

    it('sets apart only a row whose workers died holding it alone; rows held in chunks through a storm go on', async () => {
      const fixture = await jasperFixture(test, { count: 6, prefix: '8901570' });
      const [lone, ...healthy] = fixture.iccids;
      // Both changes start in a few seconds: until then, nothing but these dead workers touches them.
      const scheduledFor = new Date(Date.now() + 4_000).toISOString();
      const submit = (iccids: string[]) =>
        submitChange(
          test,
          fixture.accountId,
          byIccid(iccids),
          'status_update',
          { targetStatus: 'active' },
          {
            scheduledFor,
          },
        );
      const stormId = await submit(healthy);
      const loneId = await submit([lone]);

      // The storm: a sending chunk, then one row read alone once, then five chunks of reads, each
      // ended by a kill. Every row has been held by 6 dead workers, the first one once alone.
      const storm = deadWorkers(test, stormId);
      await storm.diesSending();
      await storm.diesReadingAlone();
      for (let death = 0; death < 5; death += 1) await storm.diesReadingChunk();
      // A line whose workers died holding it alone, 4 times counting the one the engine's claim finds.
      const poison = deadWorkers(test, loneId);
      await poison.diesSending();
      for (let death = 0; death < 4; death += 1) await poison.diesReadingAlone();

      assert.deepEqual(
        (await test.api<{ status: string }>('GET', `/api/v1/bulk-changes/${stormId}`)).body.status,
        'scheduled',
        'the engine had not started: the deaths above are the only ones',
      );
      assert.deepEqual(await storm.counters(), [
        { row: 1, crashes: 6, alone: 1, heldAlone: 0 },
        ...[2, 3, 4, 5].map((row) => ({ row, crashes: 5, alone: 0, heldAlone: 0 })),
      ]);
      assert.deepEqual(await poison.counters(), [{ row: 1, crashes: 4, alone: 3, heldAlone: 1 }]);

      const stormDone = await waitForFinish(test, stormId);
      const loneDone = await waitForFinish(test, loneId);

      assert.equal(stormDone.status, 'completed', JSON.stringify(stormDone));
      const stormRows = await changesOf<Change>(test, stormId);
      assert.deepEqual(
        stormRows.map((change) => [change.iccid, change.status]),
        healthy.map((iccid) => [iccid, 'succeeded']),
        'a storm of deaths in chunks sets no line apart',
      );
      assert.equal(loneDone.status, 'failed', JSON.stringify(loneDone));
      const [setApart] = await changesOf<Change>(test, loneId);
      assert.equal(setApart.status, 'failed');
      assert.equal(setApart.error?.code, 'ROW_CRASHES_WORKER');
      assert.match(setApart.error?.message ?? '', /stopped 4 times while handling this line alone/);

      const calls = await simAdmin(fixture.simulatorUrl).calls();
      assert.deepEqual(
        calls.filter((call) => call.iccids.includes(lone)),
        [],
        'the line set apart is neither read nor sent again',
      );
      const puts = calls.filter((call) => call.action === 'put_device').flatMap((call) => call.iccids);
      assert.deepEqual(puts.sort(), [...healthy].sort(), 'every line of the storm was read, then sent once');
      assert.deepEqual(await countsDrift(test), []);
    });
  });
}
