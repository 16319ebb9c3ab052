import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { countJobs } from './jobs-repository.ts';
import { handlePeriodically, schedulePeriodic } from './periodic.ts';
import { defineTask } from './task.ts';
import { silentLogger } from './test-support.ts';
import type { JobContext } from './types.ts';

const sweep = defineTask({ name: 'test.sweep', payload: z.object({}), key: () => 'test-sweep' });
const context: JobContext = {
  jobId: 'j',
  task: sweep.name,
  attempts: 1,
  maxAttempts: 25,
  signal: new AbortController().signal,
  logger: silentLogger,
};

describe('a periodic task', () => {
  let handle: TestDatabase;
  before(async () => {
    handle = await createTestDatabase('sqlite');
  });
  after(() => handle.drop());

  it('runs its work, then has exactly one next run pending, even when the work throws', async () => {
    await schedulePeriodic(handle.db, sweep, {});
    await schedulePeriodic(handle.db, sweep, {});
    assert.equal((await countJobs(handle.db)).pending, 1, 'one pending run however many workers start');
    await handle.db.deleteFrom('jobs').execute();

    let runs = 0;
    const ok = handlePeriodically(handle.db, sweep, { everyMs: 60_000, payload: {} }, async () => {
      runs += 1;
    });
    const started = Date.now();
    await ok.handler({}, context);
    assert.equal(runs, 1);
    const next = await handle.db.selectFrom('jobs').select(['task', 'run_at']).execute();
    assert.equal(next.length, 1);
    assert.ok(next[0].run_at >= started + 60_000 && next[0].run_at < Date.now() + 61_000);

    await handle.db.deleteFrom('jobs').execute();
    const failing = handlePeriodically(handle.db, sweep, { everyMs: 60_000, payload: {} }, async () => {
      throw new Error('database away');
    });
    await assert.rejects(async () => failing.handler({}, context), /database away/);
    assert.equal((await countJobs(handle.db)).pending, 1, 'the next run is scheduled all the same');
  });
});
