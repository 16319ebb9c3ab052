import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import { sleep } from '../../../shared/time.ts';
import type { SimulatorServer } from '../../simulator-kit/simulator.ts';
import { httpJson, seedLines, type TestRequest } from '../../simulator-kit/test-client.ts';
import {
  createTealSimulator,
  type TealEntryResult,
  type TealOperation,
  type TealSimEsim,
  type TealSimulatorOptions,
  tealDefaultFaults,
  tealPlans,
} from './simulator.ts';

const eidA = '89049032000001000000000000000001';
const eidB = '89049032000001000000000000000002';
const eidC = '89049032000001000000000000000003';
const unknownEid = '89049032000001000000000000000999';
const iccidA = '8901260000000000001';
const iccidB = '8901260000000000002';
const iccidC = '8901260000000000003';
const [planSmall, planLarge] = tealPlans;
const demoApp = { apikey: 'demo-teal-key', apisecret: 'demo-teal-secret' };
const fast = { faults: { rateLimitPerSecond: null, maxConcurrent: null, operationMs: 20 } };

let sim: SimulatorServer<TealSimEsim>;
let base: string;
let requestCounter = 0;

const start = async (options: TealSimulatorOptions = fast) => {
  sim = createTealSimulator(options);
  base = await sim.listen();
  await seedLines(base, [
    { eid: eidA, iccid: iccidA, msisdn: '12025550101' },
    { eid: eidB, iccid: iccidB, state: 'online', planUuid: planLarge.uuid },
    { eid: eidC, iccid: iccidC, state: 'stopped' },
  ]);
};
const newRequestId = () => {
  requestCounter += 1;
  return `test_${requestCounter}`;
};
/** A Teal call; `requestId` is added unless the path already has one (or `null` leaves it out). */
const teal = (path: string, request: TestRequest = {}, requestId: string | null = newRequestId()) => {
  const separator = path.includes('?') ? '&' : '?';
  const query = requestId === null ? '' : `${separator}requestId=${encodeURIComponent(requestId)}`;
  return httpJson(`${base}/api/v1${path}${query}`, {
    ...request,
    headers: { ...demoApp, ...request.headers },
  });
};
const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const statusAndBody = ({ status, body }: { status: number; body: unknown }) => ({ status, body });
const esim = (eid: string) => {
  const found = sim.store.list().find((candidate) => candidate.eid === eid);
  assert.ok(found, `eSIM ${eid} exists`);
  return found;
};
const operations = async () => (await admin('/operations')).body as TealOperation[];

interface Accepted {
  success: true;
  link: { operationResultLink: { href: string } };
}
/** Submits a write, checks the 202 and returns the operation's href. */
const submit = async (name: string, entries: unknown[], requestId = newRequestId()) => {
  const response = await teal(`/esims/${name}`, { method: 'POST', body: { entries } }, requestId);
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const body = response.body as Accepted;
  assert.equal(body.success, true);
  return body.link.operationResultLink.href;
};
const readOperation = async (href: string) => {
  const response = await httpJson(`${href}?requestId=${newRequestId()}`, { headers: demoApp });
  assert.equal(response.status, 200);
  return response.body as { success: boolean; status: string; entries: TealEntryResult[] };
};
/** Polls the operation until it is DONE, as a client does. */
const done = async (href: string, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await readOperation(href);
    if (result.status === 'DONE') return result;
    assert.ok(Date.now() < deadline, `operation ${href} is still ${result.status}`);
    await sleep(5);
  }
};

afterEach(() => sim.close());

describe('Teal simulator: authentication and requestId', () => {
  it('refuses a missing or wrong ApiKey / ApiSecret with 401', async () => {
    await start();
    const attempts: Record<string, string>[] = [
      {},
      { apikey: 'demo-teal-key' },
      { apikey: 'demo-teal-key', apisecret: 'wrong' },
      { apikey: 'other', apisecret: 'demo-teal-secret' },
    ];
    for (const headers of attempts) {
      const response = await httpJson(`${base}/api/v1/plans?requestId=r1`, { headers });
      assert.deepEqual(statusAndBody(response), {
        status: 401,
        body: { success: false, errorMessage: 'Invalid ApiKey or ApiSecret' },
      });
    }
    assert.equal(sim.calls.count({ action: 'list_plans', status: 401 }), 4);
  });

  it('accepts the apps it was given', async () => {
    await start({ ...fast, apps: { k: 's' } });
    assert.equal((await teal('/plans', { headers: { apikey: 'k', apisecret: 's' } })).status, 200);
    assert.equal((await teal('/plans')).status, 401, 'the demo app is gone');
  });

  it('requires a requestId of 1 to 100 characters on every route', async () => {
    await start();
    const href = await submit('enable', [eidA]);
    const operationPath = new URL(href).pathname.replace('/api/v1', '');
    const routes: [string, TestRequest][] = [
      ['/esims', {}],
      ['/plans', {}],
      ['/esims/enable', { method: 'POST', body: { entries: [eidA] } }],
      ['/esims/disable', { method: 'POST', body: { entries: [eidA] } }],
      [
        '/esims/assign-plan',
        { method: 'POST', body: { entries: [{ eid: eidA, planUuid: planSmall.uuid }] } },
      ],
      [operationPath, {}],
      [
        '/data-consumption/data?dataType=DAILY&periodStart=2026-11-01 00:00:00&periodEnd=2026-12-01 00:00:00',
        {},
      ],
    ];
    for (const [path, request] of routes) {
      for (const requestId of [null, '', 'x'.repeat(101)]) {
        const response = await teal(path, request, requestId);
        assert.equal(response.status, 400, `${path} with requestId ${requestId}`);
        assert.equal((response.body as { success: boolean }).success, false);
      }
      assert.notEqual((await teal(path, request, 'y'.repeat(100))).status, 400, path);
    }
    assert.equal((await operations()).length, 4, 'only the accepted writes became operations');
  });

  it('applies the default limits and renders kit faults in the Teal envelope', async () => {
    assert.deepEqual(tealDefaultFaults, { rateLimitPerSecond: 10, maxConcurrent: 4 });
    await start({});
    await admin('/faults', { method: 'PUT', body: { latencyMs: 200 } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => teal('/plans')));
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 2);
    assert.deepEqual(refused[0].body, { success: false, errorMessage: 'Too many concurrent requests' });
    await admin('/faults', { method: 'PUT', body: { latencyMs: 0, outage: true } });
    const outage = await teal('/plans');
    assert.deepEqual(statusAndBody(outage), {
      status: 503,
      body: { success: false, errorMessage: 'Service temporarily unavailable' },
    });
  });
});

describe('Teal simulator: reads', () => {
  it('lists eSIMs by page, sorted by EID, with an optional EID filter', async () => {
    await start();
    const all = await teal('/esims');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body, {
      success: true,
      entries: [
        {
          eid: eidA,
          iccid: iccidA,
          imsi: null,
          msisdn: '12025550101',
          state: 'waiting',
          planUuid: planSmall.uuid,
        },
        { eid: eidB, iccid: iccidB, imsi: null, msisdn: null, state: 'online', planUuid: planLarge.uuid },
        { eid: eidC, iccid: iccidC, imsi: null, msisdn: null, state: 'stopped', planUuid: planSmall.uuid },
      ],
      total: 3,
    });
    const page = (await teal('/esims?offset=1&limit=1')).body as {
      entries: { eid: string }[];
      total: number;
    };
    assert.deepEqual([page.entries.map((entry) => entry.eid), page.total], [[eidB], 3]);
    const filtered = (await teal(`/esims?eid=${eidC}&eid=${unknownEid}&eid=${eidA}`)).body as {
      entries: { eid: string }[];
      total: number;
    };
    assert.deepEqual([filtered.entries.map((entry) => entry.eid), filtered.total], [[eidA, eidC], 2]);
    assert.deepEqual(sim.calls.query({ action: 'list_esims' }).at(-1)?.iccids, [iccidC, iccidA]);
  });

  it('refuses a limit above 100 and malformed paging', async () => {
    await start();
    assert.equal((await teal('/esims?limit=100')).status, 200);
    for (const query of ['limit=101', 'limit=0', 'offset=-1', 'limit=many']) {
      const response = await teal(`/esims?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal((response.body as { success: boolean }).success, false);
    }
  });

  it('lists the plans', async () => {
    await start();
    assert.deepEqual(statusAndBody(await teal('/plans')), {
      status: 200,
      body: { success: true, entries: tealPlans },
    });
    assert.equal(tealPlans.length, 4);
  });
});

describe('Teal simulator: data consumption', () => {
  const period = (dataType: string, start: string, end: string, paging = '') =>
    `/data-consumption/data?dataType=${dataType}&periodStart=${encodeURIComponent(start)}&periodEnd=${encodeURIComponent(end)}${paging}`;
  const seedUsage = async () => {
    const seeded = await admin('/data-consumption', {
      method: 'POST',
      body: [
        { eid: eidB, date: '2026-11-30', bytes: 2048 },
        { eid: eidA, date: '2026-11-02', bytes: 1000 },
        { eid: eidA, date: '2026-11-20', bytes: 0 },
        { eid: eidA, date: '2026-12-01', bytes: 500 },
        { eid: eidA, date: '2026-10-31', bytes: 7 },
      ],
    });
    assert.deepEqual(statusAndBody(seeded), { status: 200, body: { recorded: 5 } });
  };

  it('reports each EID’s bytes per day in the period, in EID then day order', async () => {
    await start();
    await seedUsage();
    const daily = await teal(period('DAILY', '2026-11-01 12:00:00', '2026-12-01 00:00:00'));
    assert.deepEqual(statusAndBody(daily), {
      status: 200,
      body: {
        success: true,
        entries: [
          { eid: eidA, periodStart: '2026-11-02 00:00:00', bytes: 1000 },
          { eid: eidA, periodStart: '2026-11-20 00:00:00', bytes: 0 },
          { eid: eidA, periodStart: '2026-12-01 00:00:00', bytes: 500 },
          { eid: eidB, periodStart: '2026-11-30 00:00:00', bytes: 2048 },
        ],
        total: 4,
      },
    });
    const page = (
      await teal(period('DAILY', '2026-11-01 00:00:00', '2026-12-01 00:00:00', '&offset=3&limit=1'))
    ).body as { entries: { eid: string }[]; total: number };
    assert.deepEqual([page.entries.map((entry) => entry.eid), page.total], [[eidB], 4]);
    assert.equal(sim.calls.count({ action: 'data_consumption', status: 200 }), 2);
  });

  it('adds the days up per month for MONTHLY', async () => {
    await start();
    await seedUsage();
    const monthly = await teal(period('MONTHLY', '2026-10-15 00:00:00', '2026-12-31 23:59:59'));
    assert.deepEqual((monthly.body as { entries: unknown[] }).entries, [
      { eid: eidA, periodStart: '2026-10-01 00:00:00', bytes: 7 },
      { eid: eidA, periodStart: '2026-11-01 00:00:00', bytes: 1000 },
      { eid: eidA, periodStart: '2026-12-01 00:00:00', bytes: 500 },
      { eid: eidB, periodStart: '2026-11-01 00:00:00', bytes: 2048 },
    ]);
  });

  it('refuses an unknown dataType, malformed or impossible times, a reversed period and a limit above 100', async () => {
    await start();
    const good = ['DAILY', '2026-11-01 00:00:00', '2026-12-01 00:00:00'] as const;
    assert.equal((await teal(period(...good, '&limit=100'))).status, 200);
    const refused: [string, string, string, string?][] = [
      ['HOURLY', good[1], good[2]],
      ['daily', good[1], good[2]],
      ['DAILY', '2026-11-01', good[2]],
      ['DAILY', '2026-11-01T00:00:00', good[2]],
      ['DAILY', '2026-02-30 00:00:00', good[2]],
      ['DAILY', good[1], '2026-12-01 24:00:00'],
      ['DAILY', good[2], good[1]],
      [...good, '&limit=101'],
      [...good, '&offset=-1'],
    ];
    for (const [dataType, start, end, paging] of refused) {
      const response = await teal(period(dataType, start, end, paging));
      assert.equal(response.status, 400, `${dataType} ${start} ${end} ${paging ?? ''}`);
      assert.equal((response.body as { success: boolean }).success, false);
    }
    for (const missing of ['dataType', 'periodStart', 'periodEnd']) {
      const url = new URL(`${base}/api/v1${period(...good)}`);
      url.searchParams.delete(missing);
      assert.equal((await teal(`${url.pathname.replace('/api/v1', '')}${url.search}`)).status, 400, missing);
    }
  });

  it('seeds usage only for known eSIMs, and forgets it on reset', async () => {
    await start();
    const unknown = await admin('/data-consumption', {
      method: 'POST',
      body: [{ eid: unknownEid, date: '2026-11-02', bytes: 1 }],
    });
    assert.equal(unknown.status, 404);
    const malformed = await admin('/data-consumption', {
      method: 'POST',
      body: [{ eid: eidA, date: '2026-11-31', bytes: 1 }],
    });
    assert.equal(malformed.status, 400);
    await seedUsage();
    assert.equal(((await admin('/data-consumption')).body as unknown[]).length, 5);
    await admin('/reset', { method: 'POST' });
    assert.deepEqual((await admin('/data-consumption')).body, []);
  });
});

describe('Teal simulator: asynchronous operations', () => {
  it('enables lines: IN_PROGRESS, then DONE with the change applied at that moment', async () => {
    await start({ faults: { ...fast.faults, operationMs: 150 } });
    const href = await submit('enable', [eidA, eidB]);
    assert.match(href, new RegExp(`^${base}/api/v1/operations/[0-9a-f-]{36}$`));
    assert.deepEqual(await readOperation(href), { success: true, status: 'IN_PROGRESS', entries: [] });
    assert.equal(esim(eidA).state, 'waiting', 'not applied before the operation is done');
    const result = await done(href);
    assert.deepEqual(result, {
      success: true,
      status: 'DONE',
      entries: [
        { eid: eidA, success: true, errorMessage: null },
        { eid: eidB, success: true, errorMessage: null },
      ],
    });
    assert.deepEqual([esim(eidA).state, esim(eidB).state], ['online', 'online']);
  });

  it('disables lines; a stopped line is a success without change', async () => {
    await start();
    const result = await done(await submit('disable', [eidB, eidC]));
    assert.deepEqual(
      result.entries.map((entry) => [entry.eid, entry.success]),
      [
        [eidB, true],
        [eidC, true],
      ],
    );
    assert.deepEqual([esim(eidB).state, esim(eidC).state], ['stopped', 'stopped']);
  });

  it('assigns plans, failing the entries of unknown plans', async () => {
    await start();
    const href = await submit('assign-plan', [
      { eid: eidA, planUuid: planLarge.uuid },
      { eid: eidC, planUuid: 'no-such-plan' },
    ]);
    const result = await done(href);
    assert.deepEqual(result.entries, [
      { eid: eidA, success: true, errorMessage: null },
      { eid: eidC, success: false, errorMessage: 'Plan no-such-plan not found' },
    ]);
    assert.equal(esim(eidA).planUuid, planLarge.uuid);
    assert.equal(esim(eidA).ratePlan, planLarge.uuid);
    assert.equal(esim(eidC).planUuid, planSmall.uuid);
  });

  it('fails entries of unknown EIDs and of EIDs in failEids, and applies the rest', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { failEids: { [eidC]: 'Profile download failed' } } });
    const result = await done(await submit('enable', [unknownEid, eidC, eidA]));
    assert.deepEqual(result.entries, [
      { eid: unknownEid, success: false, errorMessage: `eSIM with EID ${unknownEid} not found` },
      { eid: eidC, success: false, errorMessage: 'Profile download failed' },
      { eid: eidA, success: true, errorMessage: null },
    ]);
    assert.deepEqual([esim(eidC).state, esim(eidA).state], ['stopped', 'online']);
  });

  it('never finishes operations accepted while lostOperations is set', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { lostOperations: true } });
    const lost = await submit('enable', [eidA]);
    await admin('/faults', { method: 'PUT', body: { lostOperations: false } });
    const found = await submit('disable', [eidB]);
    await done(found);
    await sleep(100);
    assert.equal((await readOperation(lost)).status, 'IN_PROGRESS');
    assert.equal(esim(eidA).state, 'waiting');
  });

  it('answers 404 for an unknown operation', async () => {
    await start();
    const response = await teal('/operations/00000000-0000-4000-8000-000000000000');
    assert.deepEqual(statusAndBody(response), {
      status: 404,
      body: { success: false, errorMessage: 'Operation 00000000-0000-4000-8000-000000000000 not found' },
    });
  });

  it('refuses malformed write bodies and more than 100 entries', async () => {
    await start();
    const eids = (count: number) =>
      Array.from({ length: count }, (_, index) => `${eidA.slice(0, 29)}${index}`);
    const bodies = [{}, { entries: [] }, { entries: eids(101) }, { entries: [42] }, '{"entries":'];
    for (const body of bodies) {
      const response = await teal('/esims/enable', { method: 'POST', body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((response.body as { success: boolean }).success, false);
    }
    const noPlan = await teal('/esims/assign-plan', { method: 'POST', body: { entries: [{ eid: eidA }] } });
    assert.equal(noPlan.status, 400);
    assert.equal((await teal('/esims/enable', { method: 'POST', body: { entries: eids(100) } })).status, 202);
    assert.equal((await operations()).length, 1);
  });
});

describe('Teal simulator: requestId idempotency', () => {
  it('answers a retried write with the same operation and applies it once', async () => {
    await start();
    const first = await submit('enable', [eidA], 'Enable_20250101120000');
    const retried = await submit('enable', [eidA], 'Enable_20250101120000');
    assert.equal(retried, first);
    await done(first);
    assert.equal(esim(eidA).state, 'online');
    await admin('/devices', { method: 'POST', body: [{ eid: eidA, iccid: iccidA, state: 'stopped' }] });
    const afterDone = await submit('enable', [eidA], 'Enable_20250101120000');
    assert.equal(afterDone, first);
    await sleep(100);
    assert.equal(esim(eidA).state, 'stopped', 'the retry was not applied again');
    const listed = await operations();
    assert.equal(listed.length, 1, 'one operation');
    assert.deepEqual(listed[0].entries, [{ eid: eidA }]);
    assert.equal(listed[0].requestId, 'Enable_20250101120000');
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'enable', status: 202 }), 3);
  });

  it('refuses the same requestId with a different body with 409', async () => {
    await start();
    await submit('assign-plan', [{ eid: eidA, planUuid: planLarge.uuid }], 'plan-1');
    const conflict = await teal(
      '/esims/assign-plan',
      { method: 'POST', body: { entries: [{ eid: eidA, planUuid: planSmall.uuid }] } },
      'plan-1',
    );
    assert.deepEqual(statusAndBody(conflict), {
      status: 409,
      body: { success: false, errorMessage: 'requestId plan-1 was already used with a different body' },
    });
    const reordered = await teal(
      '/esims/assign-plan',
      { method: 'POST', body: { entries: [{ planUuid: planLarge.uuid, eid: eidA }] } },
      'plan-1',
    );
    assert.equal(reordered.status, 202, 'the same body with its keys in another order is the same body');
    assert.equal((await operations()).length, 1);
  });

  it('keys on the path: the same requestId on another write is another operation', async () => {
    await start();
    const enable = await submit('enable', [eidA], 'shared-id');
    const disable = await submit('disable', [eidA], 'shared-id');
    assert.notEqual(enable, disable);
    assert.equal((await operations()).length, 2);
  });

  it('does not remember refused writes', async () => {
    await start();
    const refused = await teal('/esims/enable', { method: 'POST', body: { entries: [] } }, 'fix-me');
    assert.equal(refused.status, 400);
    await done(await submit('enable', [eidA], 'fix-me'));
    assert.equal(esim(eidA).state, 'online');
  });
});

describe('Teal simulator: mounting, call log and reset', () => {
  it('links operations through the mount prefix when mounted in another app', async () => {
    sim = createTealSimulator(fast);
    const app = Fastify();
    await app.register(sim.plugin, { prefix: '/simulators/teal' });
    const mounted = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await httpJson(`${mounted}/simulators/teal/_sim/devices`, {
        method: 'POST',
        body: [{ eid: eidA, iccid: iccidA }],
      });
      const response = await httpJson(`${mounted}/simulators/teal/api/v1/esims/enable?requestId=m1`, {
        method: 'POST',
        headers: demoApp,
        body: { entries: [eidA] },
      });
      assert.equal(response.status, 202);
      const { href } = (response.body as Accepted).link.operationResultLink;
      assert.match(href, new RegExp(`^${mounted}/simulators/teal/api/v1/operations/[0-9a-f-]{36}$`));
      assert.equal((await done(href)).entries[0].success, true);
    } finally {
      await app.close();
    }
  });

  it('logs every action with the ICCIDs of the EIDs concerned', async () => {
    await start();
    await teal('/plans');
    await teal(`/esims?eid=${eidB}`);
    const href = await submit('enable', [eidA, unknownEid]);
    await submit('disable', [eidC]);
    await submit('assign-plan', [{ eid: eidB, planUuid: planLarge.uuid }]);
    await done(href);
    await teal('/esims/enable', { method: 'POST', body: { entries: 'not a list' } });
    const calls = sim.calls.query().map(({ action, iccids, status }) => ({ action, iccids, status }));
    const operationCalls = calls.filter((call) => call.action === 'operation_result');
    assert.ok(operationCalls.length >= 1);
    assert.deepEqual(operationCalls[0], { action: 'operation_result', iccids: [iccidA], status: 200 });
    assert.deepEqual(
      calls.filter((call) => call.action !== 'operation_result'),
      [
        { action: 'list_plans', iccids: [], status: 200 },
        { action: 'list_esims', iccids: [iccidB], status: 200 },
        { action: 'enable', iccids: [iccidA], status: 202 },
        { action: 'disable', iccids: [iccidC], status: 202 },
        { action: 'assign_plan', iccids: [iccidB], status: 202 },
        { action: 'enable', iccids: [], status: 400 },
      ],
    );
  });

  it('reset drops eSIMs, operations, pending completions, requestIds and faults', async () => {
    await start({ faults: { ...fast.faults, operationMs: 100 } });
    await submit('enable', [eidA], 'before-reset');
    await admin('/faults', { method: 'PUT', body: { lostOperations: true, failEids: { [eidA]: 'no' } } });
    assert.equal((await admin('/reset', { method: 'POST' })).status, 204);
    assert.deepEqual(await operations(), []);
    assert.equal(sim.store.size, 0);
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual([faults.operationMs, faults.lostOperations, faults.failEids], [100, false, {}]);
    await admin('/devices', { method: 'POST', body: [{ eid: eidA, iccid: iccidA }] });
    await sleep(150);
    assert.equal(esim(eidA).state, 'waiting', 'the operation from before the reset never ran');
    const href = await submit('enable', [eidA], 'before-reset');
    assert.equal((await operations()).length, 1, 'the requestId is free again');
    assert.equal((await done(href)).entries[0].success, true);
    assert.equal(esim(eidA).state, 'online');
  });

  it('refuses a seed whose EID belongs to another line and upserts by ICCID', async () => {
    await start();
    const taken = await admin('/devices', { method: 'POST', body: [{ eid: eidA, iccid: iccidB }] });
    assert.equal(taken.status, 400);
    const moved = '89049032000001000000000000000777';
    await admin('/devices', { method: 'POST', body: [{ eid: moved, iccid: iccidA }] });
    assert.equal(esim(moved).msisdn, '12025550101', 'the upsert kept the other fields');
    const oldEid = await teal(`/esims?eid=${eidA}`);
    assert.equal((oldEid.body as { total: number }).total, 0, 'the old EID no longer names a line');
    const badEid = await admin('/devices', { method: 'POST', body: [{ eid: '123', iccid: iccidA }] });
    assert.equal(badEid.status, 400);
  });
});
