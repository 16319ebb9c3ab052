import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { thingSpaceAccountFixture } from '../support/carrier-accounts.ts';
import { type ChangeView, type E2eStack, insertInventory, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, type SimCall, simAdmin, startCli, waitForBulkChange } from '../support/processes.ts';
import { maxInWindow, postgresOnly, scaleOut, simStats } from '../support/scale-out.ts';
import { testIccids } from '../support/service.ts';

const WORKERS = ['w1', 'w2', 'w3', 'w4'];
/** One line per activate request: 112 requests, more than ThingSpace allows in a minute. */
const CHANGES = 4;
const LINES_PER_CHANGE = 28;
/**
 * Changes sent while the password is wrong: each fails at its first refused login, so without a count
 * shared by the workers 6 changes would mean 6 refused logins (the lock is at 5).
 */
const REFUSED_CHANGES = 6;

const credentials = (password: string) => ({
  clientId: 'demo-client-id',
  clientSecret: 'demo-client-secret',
  username: 'demo-user',
  password,
  callbackPassword: 'e2e-callback-secret',
});

/**
 * Issue 14 on ThingSpace: 4 worker processes share one account. Its activate requests stay within
 * ThingSpace's 100 a minute in every sliding minute, the deployment logs in once, and after the
 * credentials are refused the workers stop at 3 refused logins in all: ThingSpace's lock at 5 is never
 * reached, and the right password works again at once.
 */
describe('4 workers on PostgreSQL share one ThingSpace account', { skip: postgresOnly }, () => {
  const stacks: E2eStack[] = [];
  after(() => Promise.all(stacks.map((stack) => stack.close())));

  it('keep to 100 activate requests a minute, log in once, and never reach the lock-out', async (t) => {
    const stack = await startE2eStack({
      dialect: 'postgres',
      env: { WORKER_CONCURRENCY: '1', WORKER_POLL_INTERVAL_MS: '250' },
    });
    stacks.push(stack);
    const simulator = startCli(['simulate', 'thingspace', '--port', '0']);
    const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
    const sim = simAdmin(simulatorUrl);
    await sim.setFaults({ callbacks: true });

    const deployment = scaleOut(stack);
    await deployment.startApi();
    await Promise.all(WORKERS.map((name) => deployment.startWorker(name)));
    const accountId = await thingSpaceAccountFixture(stack, {
      name: 'thingspace scale-out',
      baseUrl: simulatorUrl,
      accountName: '0000123456-00001',
      callbackPassword: 'e2e-callback-secret',
      limits: {
        requestsPerSecond: 20,
        maxConcurrent: 2,
        batchSize: 1,
        checkIntervalMs: 5_000,
        maxWaitMs: 120_000,
      },
    });
    const iccids = testIccids(CHANGES * LINES_PER_CHANGE + 2 * REFUSED_CHANGES, '8914811');
    await sim.seed(iccids.map((iccid) => ({ iccid, state: 'pre-active' })));
    await insertInventory(stack.databaseLocation, {
      tenant: 'acme',
      accountId,
      iccids,
      state: 'pre-active',
      status: 'inventory',
    });
    const activate = async (lines: string[]) => {
      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: lines.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      return created.body.id;
    };

    // 1. Four changes at once, one line per activate request.
    const ids = [];
    for (let change = 0; change < CHANGES; change++) {
      ids.push(await activate(iccids.slice(change * LINES_PER_CHANGE, (change + 1) * LINES_PER_CHANGE)));
    }
    for (const id of ids) {
      const done = await waitForBulkChange(stack.api, id, 170_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
    }
    const activations = (await sim.calls('activate')).filter((call: SimCall) => call.status === 200);
    assert.equal(activations.length, CHANGES * LINES_PER_CHANGE, 'one activate request per line');
    const busiestMinute = maxInWindow(await sim.calls('activate'), 60_000);
    assert.ok(
      busiestMinute.count <= 100,
      `${busiestMinute.count} activate requests in the minute from ${busiestMinute.at}`,
    );
    const refusedForRate = (await sim.calls('activate')).filter((call: SimCall) => call.status === 429);
    assert.equal(refusedForRate.length, 0, 'no activate request over the limit');
    const logins = await sim.calls('login');
    assert.deepEqual(
      logins.map((call: SimCall) => call.status),
      [200],
      'one login for the deployment',
    );
    t.diagnostic(
      `${activations.length} activate requests; busiest minute ${busiestMinute.count}; logins ${logins.length}; ` +
        `token requests ${(await sim.calls('token')).length}; 429s ${(await simStats(simulatorUrl)).rateLimited}`,
    );

    // 2. The password is changed to a wrong one: every worker needs a login, 3 are refused in all.
    const changedAt = new Date().toISOString();
    const wrong = await stack.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
      body: { credentials: credentials('not-the-password') },
    });
    assert.equal(wrong.status, 200, wrong.text);
    const rest = iccids.slice(CHANGES * LINES_PER_CHANGE);
    const refusedIds = [];
    for (let change = 0; change < REFUSED_CHANGES; change++) {
      refusedIds.push(await activate(rest.slice(2 * change, 2 * change + 2)));
    }
    const carrierCodes = new Set<string>();
    for (const id of refusedIds) {
      const done = await waitForBulkChange(stack.api, id, 60_000);
      const rows = await listAll<ChangeView & { error: { carrierCode?: string } | null }>(
        stack.api,
        `/api/v1/bulk-changes/${id}/changes`,
      );
      if (done.status !== 'failed') {
        // What the workers did with this change: its rows, and every carrier call since the password changed.
        const since = (await sim.calls()).filter((call: SimCall) => call.at >= changedAt);
        assert.fail(`${done.status} ${JSON.stringify(done.counts)}: ${JSON.stringify({ rows, since })}`);
      }
      assert.ok(
        rows.every((row) => row.error?.code === 'AUTH_FAILED'),
        JSON.stringify(rows.map((r) => r.error)),
      );
      for (const row of rows) carrierCodes.add(row.error?.carrierCode ?? '');
    }
    const refused = (await sim.calls('login')).filter((call: SimCall) => call.status !== 200);
    assert.equal(refused.length, 3, `${refused.length} refused logins in all (the lock is at 5)`);
    assert.ok(carrierCodes.has('LOGIN_SUSPENDED'), `then no more logins: ${[...carrierCodes]}`);

    // 3. The right password again: the account was never locked, one new login serves the deployment.
    const fixed = await stack.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
      body: { credentials: credentials('demo-password') },
    });
    assert.equal(fixed.status, 200, fixed.text);
    const retried = await stack.api<{ id: string }>('POST', `/api/v1/bulk-changes/${refusedIds[0]}/retry`);
    assert.equal(retried.status, 201, retried.text);
    const done = await waitForBulkChange(stack.api, retried.body.id, 60_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.counts));
    const loginsAfter = (await sim.calls('login')).slice(logins.length + refused.length);
    assert.deepEqual(
      loginsAfter.map((call: SimCall) => call.status),
      [200],
      'one login after the fix',
    );
  });
});
