import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { testDialects } from '../support/databases.ts';
import {
  type ChangeView,
  countBy,
  type E2eStack,
  type LogEntryView,
  startE2eStack,
} from '../support/e2e-stack.ts';
import { listAll, waitForBulkChange, waitUntil } from '../support/processes.ts';

const LINES = 80;
const SHUTDOWN_GRACE_MS = 1_000;

for (const dialect of testDialects) {
  describe(`a graceful shutdown (SIGTERM) mid-run on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('exits 0 within the grace period, and after a restart the change completes with no line PUT twice', async () => {
      stack = await startE2eStack({
        dialect,
        simulatorFaults: { latencyMs: 200 },
        env: { SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS) },
      });
      await stack.startServer();
      // Four lanes at 200 ms a call: one chunk takes about 4 s, far longer than the grace period.
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 30, maxConcurrent: 4 },
        count: LINES,
        prefix: '8901502',
      });
      const id = await submitChange(stack, accountId, byIccid(iccids), 'status_update', {
        targetStatus: 'active',
      });

      await waitUntil(
        'the first PUTs',
        async () => ((await stack!.sim.calls('put_device')).length >= 10 ? true : undefined),
        20_000,
        20,
      );
      const server = stack.server!;
      const signalledAt = Date.now();
      server.process.kill('SIGTERM');
      const code = await Promise.race([
        server.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), SHUTDOWN_GRACE_MS + 4_000)),
      ]);
      const tookMs = Date.now() - signalledAt;
      assert.equal(code, 0, `exit code after SIGTERM (stderr: ${server.stderr})`);
      assert.ok(tookMs < SHUTDOWN_GRACE_MS + 4_000, `exited in ${tookMs} ms`);
      const putsAtStop = (await stack.sim.calls('put_device')).length;
      assert.ok(putsAtStop < LINES, `stopped mid-run (${putsAtStop} PUTs)`);

      await stack.startServer();
      const done = await waitForBulkChange(stack.api, id, 45_000);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.counts.succeeded, LINES);
      const changes = await listAll<ChangeView>(stack.api, `/api/v1/bulk-changes/${id}/changes`);
      assert.deepEqual(
        changes.filter((change) => change.status !== 'succeeded'),
        [],
      );
      const lines = await stack.sim.devices();
      assert.ok(lines.every((line) => line.state === 'ACTIVATED'));

      const puts = await stack.sim.calls('put_device');
      const perLine = countBy(puts, (call) => call.iccids[0]);
      assert.deepEqual(
        iccids.filter((iccid) => perLine.get(iccid) !== 1).map((iccid) => [iccid, perLine.get(iccid) ?? 0]),
        [],
        'exactly one PUT per line',
      );
      assert.ok(puts.every((call) => call.status === 200));
      // A graceful stop commits what the in-flight chunk did: every PUT is in the log.
      const log = await listAll<LogEntryView>(stack.api, `/api/v1/bulk-changes/${id}/log`);
      assert.equal(log.filter((entry) => entry.action === 'put_device').length, puts.length);
    });
  });
}
