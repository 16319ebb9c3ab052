import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

type Stats = {
  requests: number;
  rateLimited: number;
  maxObservedConcurrency: number;
  maxObservedRequestsPerSecond: number;
};
type Change = { status: string; attempts: number; error: { code: string; message: string } | null };

describe('carrier faults', () => {
  let test: TestService;
  before(async () => {
    test = await startTestService('sqlite');
  });
  after(() => test.stop());

  const activate = (accountId: string, iccids: string[]) =>
    submitChange(test, accountId, byIccid(iccids), 'status_update', { targetStatus: 'active' });
  const stats = async (url: string) => (await (await fetch(`${url}/_sim/stats`)).json()) as Stats;
  const changesOf = async (id: string) =>
    (await test.api<{ items: Change[] }>('GET', `/api/v1/bulk-changes/${id}/changes?limit=1000`)).body.items;

  it('rides out a burst of 5xx answers: the change still completes and every failed call is logged', async () => {
    const fixture = await jasperFixture(test, { count: 20, prefix: '8901201', faults: { errorBurst: 8 } });
    const id = await activate(fixture.accountId, fixture.iccids);
    const done = await waitForFinish(test, id);
    assert.equal(done.status, 'completed');
    assert.equal(done.counts.succeeded, 20);
    const log = await test.api<{ items: Array<{ httpStatus: number; outcome: string }> }>(
      'GET',
      `/api/v1/bulk-changes/${id}/log?limit=1000`,
    );
    assert.equal(log.body.items.filter((entry) => entry.httpStatus === 500).length, 8);
    assert.ok(
      log.body.items
        .filter((entry) => entry.httpStatus === 500)
        .every((entry) => entry.outcome === 'transient'),
    );
  });

  it('slows down on 429 + Retry-After and completes', async () => {
    const fixture = await jasperFixture(test, {
      count: 16,
      prefix: '8901202',
      faults: { rateLimitPerSecond: 4 },
      limits: { requestsPerSecond: 50, maxConcurrent: 1 },
    });
    const id = await activate(fixture.accountId, fixture.iccids);
    const done = await waitForFinish(test, id);
    assert.equal(done.status, 'completed');
    assert.equal(done.counts.succeeded, 16);
    assert.ok((await stats(fixture.simulatorUrl)).rateLimited > 0, 'the simulator did refuse some calls');
  });

  it('never exceeds the account’s configured rate or concurrency', async () => {
    const fixture = await jasperFixture(test, {
      count: 30,
      prefix: '8901203',
      limits: { requestsPerSecond: 10, maxConcurrent: 1 },
    });
    const started = Date.now();
    const id = await activate(fixture.accountId, fixture.iccids);
    assert.equal((await waitForFinish(test, id)).status, 'completed');
    // Send times as the client recorded them: arrival times at the simulator add network jitter.
    const log = await test.api<{ items: Array<{ at: string; system: string }> }>(
      'GET',
      `/api/v1/bulk-changes/${id}/log?limit=1000`,
    );
    const sent = log.body.items
      .filter((entry) => entry.system !== 'bulkchange')
      .map((entry) => Date.parse(entry.at))
      .sort((a, b) => a - b);
    assert.equal(sent.length, 30);
    for (let index = 10; index < sent.length; index++) {
      assert.ok(
        sent[index] - sent[index - 10] >= 1000,
        `11 calls within one second, ending at call ${index}`,
      );
    }
    const observed = await stats(fixture.simulatorUrl);
    assert.equal(observed.maxObservedConcurrency, 1);
    assert.equal(observed.rateLimited, 0);
    assert.ok(Date.now() - started >= 2_800, '30 calls at 10/s take about 3 s');
  });

  it('reads the line before sending again when a call may have reached the carrier (a timeout)', async () => {
    const fixture = await jasperFixture(test, {
      count: 2,
      prefix: '8901206',
      faults: { latencyMs: 700 },
      limits: { requestTimeoutMs: 300, maxConcurrent: 1 },
    });
    const id = await activate(fixture.accountId, fixture.iccids);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await fetch(`${fixture.simulatorUrl}/_sim/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 0 }),
    });
    const done = await waitForFinish(test, id, 30_000);
    assert.equal(done.status, 'completed');
    const puts = (await (
      await fetch(`${fixture.simulatorUrl}/_sim/calls?action=put_device`)
    ).json()) as Array<{
      iccids: string[];
    }>;
    for (const iccid of fixture.iccids) {
      assert.equal(
        puts.filter((call) => call.iccids.includes(iccid)).length,
        1,
        `${iccid} was PUT once, then read`,
      );
    }
    const gets = (await (
      await fetch(`${fixture.simulatorUrl}/_sim/calls?action=get_device`)
    ).json()) as unknown[];
    assert.ok(gets.length >= 2, 'each line was read to learn whether its PUT took effect');
  });

  it('fails rows with RETRIES_EXHAUSTED when the carrier stays down past the retry budget', async () => {
    // One line: its 6 failed calls (2 attempts of 3 tries each) never open the account's circuit (10 in a
    // row), which would pause the change instead (docs/guardrails.md; test/guardrails.test.ts).
    const fixture = await jasperFixture(test, {
      count: 1,
      prefix: '8901204',
      faults: { outage: true },
      limits: { retryBudget: 2 },
    });
    const id = await activate(fixture.accountId, fixture.iccids);
    const done = await waitForFinish(test, id, 30_000);
    assert.equal(done.status, 'failed');
    const changes = await changesOf(id);
    assert.ok(changes.every((c) => c.error?.code === 'RETRIES_EXHAUSTED' && c.attempts === 2));
    assert.match(changes[0].error!.message, /CARRIER_UNAVAILABLE/);
  });

  it('fails every row with AUTH_FAILED when the carrier refuses the credentials, without hammering it', async () => {
    const fixture = await jasperFixture(test, { count: 8, prefix: '8901205', limits: { maxConcurrent: 1 } });
    await test.api('PATCH', `/api/v1/carrier-accounts/${fixture.accountId}`, {
      body: { credentials: { username: 'demo', apiKey: 'wrong' } },
    });
    const id = await activate(fixture.accountId, fixture.iccids);
    const done = await waitForFinish(test, id);
    assert.equal(done.status, 'failed');
    const changes = await changesOf(id);
    assert.ok(
      changes.every((c) => c.error?.code === 'AUTH_FAILED'),
      JSON.stringify(changes.map((c) => c.error)),
    );
    assert.ok(
      (await stats(fixture.simulatorUrl)).requests < 8,
      'the rest of the rows were failed without a call',
    );
  });
});
