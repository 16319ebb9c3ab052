import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, countsDrift, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { countBy } from './support/e2e-stack.ts';
import { type SimCall, simAdmin, sleep, waitUntil } from './support/processes.ts';
import { jasperFixture, serviceForSuite, type TestService, waitForFinish } from './support/service.ts';

interface View {
  id: string;
  status: string;
  counts: Record<string, number>;
  pause: { reason: string; by: string; at: string; detail: Record<string, unknown> } | null;
}

const view = async (test: TestService, id: string) =>
  (await test.api<View>('GET', `/api/v1/bulk-changes/${id}`)).body;

/** Each line's accepted status changes at the simulator (its call log): a line changed twice shows 2. */
const acceptedPerLine = (calls: SimCall[]) =>
  countBy(
    calls.filter((call) => call.action === 'put_device' && call.status === 200),
    (call) => call.iccids[0],
  );

const changedOnce = (iccids: string[], calls: SimCall[]) => {
  const accepted = acceptedPerLine(calls);
  return iccids.filter((iccid) => accepted.get(iccid) !== 1);
};

for (const dialect of testDialects) {
  describe(`pause and resume on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('pauses a running change (nothing new sent), then resumes it: every line changed exactly once', async () => {
      const fixture = await jasperFixture(test, {
        count: 300,
        prefix: '8901301',
        // 90-row chunks (3 s of calls each), two claimed at a time: a pause takes effect between chunks.
        limits: { requestsPerSecond: 30, maxConcurrent: 2 },
      });
      const sim = simAdmin(fixture.simulatorUrl);
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      await waitUntil('rows sent', async () =>
        (await view(test, id)).counts.succeeded >= 20 ? true : undefined,
      );

      const paused = await test.api<View>('POST', `/api/v1/bulk-changes/${id}/pause`);
      assert.equal(paused.status, 200, paused.text);
      assert.equal(paused.body.status, 'paused');
      assert.equal(paused.body.pause?.reason, 'manual');
      assert.match(paused.body.pause?.by ?? '', /^key:/);
      // Calls already out finish; after them nothing new goes to the carrier while paused.
      await waitUntil('calls out settled', async () => {
        const counts = (await view(test, id)).counts;
        return counts.inProgress === 0 ? true : undefined;
      });
      const sentWhenSettled = (await sim.calls('put_device')).length;
      await sleep(1_000);
      assert.equal((await sim.calls('put_device')).length, sentWhenSettled, 'nothing sent while paused');
      const held = await view(test, id);
      assert.equal(held.status, 'paused');
      assert.ok(held.counts.queued > 0, `rows still to send: ${JSON.stringify(held.counts)}`);

      // A second pause changes nothing; a resume of a running change is refused.
      assert.equal(
        (await test.api<View>('POST', `/api/v1/bulk-changes/${id}/pause`)).body.pause?.reason,
        'manual',
      );
      const resumed = await test.api<View>('POST', `/api/v1/bulk-changes/${id}/resume`);
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.body.status, 'processing');
      assert.equal(resumed.body.pause, null);
      const again = await test.api<{ error: { code: string } }>('POST', `/api/v1/bulk-changes/${id}/resume`);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'BULK_CHANGE_NOT_PAUSED');

      const done = await waitForFinish(test, id);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      assert.deepEqual(changedOnce(fixture.iccids, await sim.calls()), [], 'every line changed exactly once');
      assert.deepEqual(await countsDrift(test), []);

      // Each pause and resume is audited with who did it.
      const log = await test.api<{ items: Array<{ action: string; actor: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${id}/log?limit=1000`,
      );
      const controls = log.body.items.filter((entry) => /^bulk_change\.(pause|resume)$/.test(entry.action));
      assert.deepEqual(
        controls.map((entry) => entry.action),
        ['bulk_change.pause', 'bulk_change.resume'],
      );
      assert.ok(controls.every((entry) => entry.actor.startsWith('key:')));
      const finished = await test.api<{ error: { code: string } }>(
        'POST',
        `/api/v1/bulk-changes/${id}/pause`,
      );
      assert.equal(finished.status, 409);
      assert.equal(finished.body.error.code, 'BULK_CHANGE_FINISHED');
    });

    it('cancels a paused change: its rows not sent are cancelled', async () => {
      const fixture = await jasperFixture(test, {
        count: 150,
        prefix: '8901302',
        limits: { requestsPerSecond: 10, maxConcurrent: 1 },
      });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await test.api<View>('POST', `/api/v1/bulk-changes/${id}/pause`)).body.status, 'paused');
      const cancelled = await test.api<View>('POST', `/api/v1/bulk-changes/${id}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);
      const done = await waitForFinish(test, id);
      assert.equal(done.status, 'cancelled');
      assert.equal(done.counts.succeeded + done.counts.cancelled, 150);
      assert.ok(done.counts.cancelled >= 90, JSON.stringify(done.counts));
    });

    it('lets only an operator pause or resume', async () => {
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901303' });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      const viewer = await test.keyFor('acme', 'viewer');
      for (const action of ['pause', 'resume']) {
        const refused = await test.api<{ error: { code: string } }>(
          'POST',
          `/api/v1/bulk-changes/${id}/${action}`,
          {
            key: viewer,
          },
        );
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.code, 'FORBIDDEN');
      }
      const other = await test.keyFor('other', 'operator');
      assert.equal((await test.api('POST', `/api/v1/bulk-changes/${id}/pause`, { key: other })).status, 404);
      await waitForFinish(test, id);
    });
  });
}

for (const dialect of testDialects) {
  describe(`auto-pause on an open circuit on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('pauses a running change when the carrier goes down, and resumes it by itself when it is back', async () => {
      const fixture = await jasperFixture(test, {
        count: 120,
        prefix: '8901311',
        // A small budget: an outage that spent attempts on calls that never left would exhaust it.
        limits: { requestsPerSecond: 20, maxConcurrent: 2, retryBudget: 4 },
      });
      const sim = simAdmin(fixture.simulatorUrl);
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      await waitUntil('rows sent', async () =>
        (await view(test, id)).counts.succeeded >= 10 ? true : undefined,
      );

      await sim.setFaults({ outage: true });
      const paused = await waitUntil(
        'the change paused for the circuit',
        async () => {
          const seen = await view(test, id);
          return seen.status === 'paused' ? seen : undefined;
        },
        40_000,
      );
      assert.equal(paused.pause?.reason, 'circuit_open');
      assert.equal(paused.pause?.by, 'engine');
      assert.match(String(paused.pause?.detail.resumeAt), /^\d{4}-/);
      assert.ok(paused.counts.queued > 0, JSON.stringify(paused.counts));
      await sleep(3_000);
      await sim.setFaults({ outage: false });

      const done = await waitForFinish(test, id, 60_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      assert.equal(done.counts.succeeded, 120);
      assert.deepEqual(changedOnce(fixture.iccids, await sim.calls()), [], 'every line changed exactly once');
      assert.deepEqual(await countsDrift(test), []);
      const log = await test.api<{ items: Array<{ action: string; actor: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${id}/log?limit=1000`,
      );
      const controls = log.body.items.filter((entry) => /^bulk_change\.(pause|resume)$/.test(entry.action));
      assert.ok(controls.length >= 2, JSON.stringify(controls));
      assert.ok(controls.every((entry) => entry.actor === 'engine'));
      assert.equal(controls.at(-1)?.action, 'bulk_change.resume');
    });
  });
}

interface WavesView extends View {
  waves: {
    plan: { waves: object[]; haltOnFailureRate: number };
    current: number;
    results: Array<{
      wave: number;
      rows: number;
      succeeded: number;
      failed: number;
      failureRate: number;
      halted: boolean;
    }>;
  } | null;
}

for (const dialect of testDialects) {
  describe(`canary waves on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('halts a 1,000-line change after the wave that fails 30 % of its rows, and resume finishes it', async () => {
      const fixture = await jasperFixture(test, {
        count: 1000,
        prefix: '8901321',
        limits: { maxConcurrent: 4 },
      });
      const sim = simAdmin(fixture.simulatorUrl);
      // The carrier refuses 27 of the second wave's 90 lines (rows 11–100): they are retired there.
      const refused = fixture.iccids.slice(10, 100).filter((_, index) => index % 10 < 3);
      assert.equal(refused.length, 27);
      await sim.seed(refused.map((iccid) => ({ iccid, state: 'RETIRED' })));
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
        waves: [{ lines: 10 }, { percent: 10 }, { percent: 100 }],
        haltOnFailureRate: 0.2,
      });

      const halted = await waitUntil(
        'the canary halt',
        async () => {
          const seen = (await test.api<WavesView>('GET', `/api/v1/bulk-changes/${id}`)).body;
          return seen.status === 'paused' ? seen : undefined;
        },
        60_000,
      );
      assert.equal(halted.pause?.reason, 'canary_halt');
      assert.equal(halted.pause?.by, 'engine');
      assert.deepEqual(
        {
          wave: halted.pause?.detail.wave,
          rows: halted.pause?.detail.rows,
          failed: halted.pause?.detail.failed,
        },
        { wave: 2, rows: 90, failed: 27 },
      );
      assert.equal(halted.pause?.detail.failureRate, 0.3);
      assert.deepEqual(
        halted.waves?.results.map((result) => [result.wave, result.rows, result.failed, result.halted]),
        [
          [1, 10, 0, false],
          [2, 90, 27, true],
        ],
      );
      assert.equal(halted.waves?.current, 3);
      // Nothing of the third wave went out, and nothing goes out while it waits for a person.
      const sentAtHalt = await sim.calls('put_device');
      const third = new Set(fixture.iccids.slice(100));
      assert.deepEqual(
        sentAtHalt.filter((call) => third.has(call.iccids[0])),
        [],
      );
      assert.equal(halted.counts.queued, 900);
      await sleep(1_000);
      assert.equal((await sim.calls('put_device')).length, sentAtHalt.length);

      const resumed = await test.api<View>('POST', `/api/v1/bulk-changes/${id}/resume`);
      assert.equal(resumed.status, 200, resumed.text);
      const done = await waitForFinish(test, id, 120_000);
      assert.equal(done.status, 'completed_with_errors', JSON.stringify(done.counts));
      assert.equal(done.counts.succeeded, 973);
      assert.equal(done.counts.failed, 27);
      assert.deepEqual(
        changedOnce(
          fixture.iccids.filter((iccid) => !refused.includes(iccid)),
          await sim.calls(),
        ),
        [],
        'every line changed exactly once',
      );
      const final = (await test.api<WavesView>('GET', `/api/v1/bulk-changes/${id}`)).body;
      assert.deepEqual(
        final.waves?.results.map((result) => result.wave),
        [1, 2],
      );
      assert.deepEqual(await countsDrift(test), []);
    });

    it('goes on from wave to wave while the failure rate stays under the threshold', async () => {
      const fixture = await jasperFixture(test, { count: 50, prefix: '8901322' });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
        waves: [{ lines: 5 }, { percent: 50 }],
      });
      const done = await waitForFinish(test, id);
      assert.equal(done.status, 'completed');
      const final = (await test.api<WavesView>('GET', `/api/v1/bulk-changes/${id}`)).body;
      assert.deepEqual(
        final.waves?.results.map((result) => [result.wave, result.rows, result.halted]),
        [
          [1, 5, false],
          [2, 20, false],
        ],
      );
      assert.equal(final.waves?.plan.haltOnFailureRate, 0.2);
    });

    it('refuses a wave plan that is not one, with a 422 naming the field', async () => {
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901323' });
      for (const options of [
        { waves: [] },
        { waves: [{ percent: 120 }] },
        { waves: [{ lines: 5, percent: 5 }] },
        { waves: [{ lines: 5 }], haltOnFailureRate: 2 },
        { haltOnFailureRate: 0.1 },
      ]) {
        const response = await test.api<{ error: { code: string; details: Array<{ field: string }> } }>(
          'POST',
          '/api/v1/bulk-changes',
          {
            body: {
              carrierAccountId: fixture.accountId,
              changeType: 'status_update',
              options: { targetStatus: 'active', ...options },
              changes: byIccid(fixture.iccids),
            },
          },
        );
        assert.equal(response.status, 422, JSON.stringify(options));
        assert.equal(response.body.error.code, 'VALIDATION_FAILED');
        assert.match(response.body.error.details[0].field, /^options\./);
      }
    });
  });
}
