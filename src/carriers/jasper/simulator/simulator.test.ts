import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { CallEntry } from '../../simulator-kit/call-log.ts';
import type { SimulatorServer } from '../../simulator-kit/simulator.ts';
import { httpJson, seedLines, type TestRequest } from '../../simulator-kit/test-client.ts';
import {
  createJasperSimulator,
  type JasperSimLine,
  type JasperSimulatorOptions,
  jasperErrorCodes,
  jasperTransitions,
} from './simulator.ts';

const iccidA = '8988216716970004975';
const iccidB = '8988216716970004983';
const basic = (user: string, key: string) => `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
const demoAuth = { authorization: basic('demo', 'demo-api-key') };
const jasperTime = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000$/;
const unlimited = { faults: { rateLimitPerSecond: null, maxConcurrent: null } };

let sim: SimulatorServer<JasperSimLine>;
let base: string;

const start = async (options: JasperSimulatorOptions = unlimited) => {
  sim = createJasperSimulator(options);
  base = await sim.listen();
  await seedLines(base, [
    { iccid: iccidA, imei: '354826091234563', ratePlan: 'IoT 10MB', communicationPlan: 'CP_Data_Only' },
    { iccid: iccidB, status: 'ACTIVATED', ratePlan: 'IoT 1GB' },
  ]);
};
const jasper = (path: string, request: TestRequest = {}) =>
  httpJson(`${base}/rws/api/v1${path}`, { ...request, headers: { ...demoAuth, ...request.headers } });
const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const put = (iccid: string, body: unknown) => jasper(`/devices/${iccid}`, { method: 'PUT', body });
const line = (iccid: string) => {
  const found = sim.store.get(iccid);
  assert.ok(found, `line ${iccid} exists`);
  return found;
};
const error = (status: number, errorCode: string, errorMessage: string) => ({
  status,
  body: { errorMessage, errorCode },
});
const statusAndBody = ({ status, body }: { status: number; body: unknown }) => ({ status, body });

afterEach(() => sim.close());

describe('Jasper simulator: authentication', () => {
  it('asks for credentials when none are sent', async () => {
    await start();
    const response = await httpJson(`${base}/rws/api/v1/devices/${iccidA}`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="Jasper"');
    assert.deepEqual(response.body, {
      errorMessage: 'Full authentication is required to access this resource',
    });
  });

  it('refuses a wrong API key or an unknown user', async () => {
    await start();
    for (const authorization of [basic('demo', 'wrong'), basic('nobody', 'demo-api-key'), 'Basic !!!']) {
      const response = await jasper(`/devices/${iccidA}`, { headers: { authorization } });
      assert.deepEqual(statusAndBody(response), error(401, '10000001', 'Invalid credentials'));
    }
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'get_device', status: 401 }), 3);
  });

  it('accepts the users it was given', async () => {
    await start({ ...unlimited, users: { ops: 'k3y' } });
    const response = await jasper(`/devices/${iccidA}`, { headers: { authorization: basic('ops', 'k3y') } });
    assert.equal(response.status, 200);
    assert.equal((await jasper(`/devices/${iccidA}`)).status, 401, 'the default user is gone');
  });
});

describe('Jasper simulator: devices', () => {
  it('returns device details in Control Center shape', async () => {
    await start();
    const response = await jasper(`/devices/${iccidB}`);
    assert.equal(response.status, 200);
    const details = response.body as Record<string, unknown>;
    assert.deepEqual(
      {
        iccid: details.iccid,
        status: details.status,
        ratePlan: details.ratePlan,
        communicationPlan: details.communicationPlan,
        msisdn: details.msisdn,
        imsi: details.imsi,
        imei: details.imei,
        customer: details.customer,
        accountCustom10: details.accountCustom10,
      },
      {
        iccid: iccidB,
        status: 'ACTIVATED',
        ratePlan: 'IoT 1GB',
        communicationPlan: 'CP_Data_SMS',
        msisdn: '882356970004983',
        imsi: '901166970004983',
        imei: '',
        customer: null,
        accountCustom10: '',
      },
    );
    for (const field of ['dateActivated', 'dateAdded', 'dateUpdated']) {
      assert.match(String(details[field]), jasperTime, field);
    }
    const inventory = (await jasper(`/devices/${iccidA}`)).body as Record<string, unknown>;
    assert.deepEqual([inventory.dateActivated, inventory.msisdn, inventory.status], [null, '', 'INVENTORY']);
  });

  it('answers 404 for an unknown ICCID', async () => {
    await start();
    const response = await jasper('/devices/8988216716970009999');
    assert.deepEqual(
      statusAndBody(response),
      error(404, '10000003', 'Resource not found - Iccid does not exist'),
    );
    const edit = await put('8988216716970009999', { status: 'ACTIVATED' });
    assert.equal(edit.status, 404);
  });

  it('activates a line: dateActivated, MSISDN and IMSI are assigned', async () => {
    await start();
    const unknown = await put(iccidA, { status: 'ACTIVATED', unknownField: 'refused' });
    assert.deepEqual(
      statusAndBody(unknown),
      error(400, jasperErrorCodes.unknownField, 'Invalid field: unknownField'),
    );
    assert.notEqual(line(iccidA).state, 'ACTIVATED', 'a refused edit changes nothing');
    const response = await put(iccidA, { status: 'ACTIVATED' });
    assert.deepEqual(statusAndBody(response), { status: 200, body: { iccid: iccidA } });
    const activated = line(iccidA);
    assert.equal(activated.state, 'ACTIVATED');
    assert.equal(activated.msisdn, '882356970004975');
    assert.equal(activated.imsi, '901166970004975');
    assert.ok(activated.dateActivated !== null && Date.now() - Date.parse(activated.dateActivated) < 5000);
    const [seen] = (await admin(`/devices?iccid=${iccidA}`)).body as JasperSimLine[];
    assert.deepEqual(
      [seen.state, seen.msisdn, seen.imei],
      ['ACTIVATED', '882356970004975', '354826091234563'],
    );
  });

  it('changes rate plan, communication plan and custom fields', async () => {
    await start();
    assert.equal((await put(iccidA, { ratePlan: 'IoT 100MB' })).status, 200);
    assert.deepEqual([line(iccidA).ratePlan, line(iccidA).communicationPlan], ['IoT 100MB', 'CP_Data_Only']);
    assert.equal((await put(iccidA, { ratePlan: 'IoT Unlimited' })).status, 200);
    assert.equal(line(iccidA).communicationPlan, 'CP_Data_SMS', "the new plan's first communication plan");
    const edit = {
      ratePlan: 'IoT 1GB',
      communicationPlan: 'CP_Static_IP',
      accountCustom2: 'cost-7',
      deviceID: 'pump-1',
    };
    assert.equal((await put(iccidA, edit)).status, 200);
    const details = (await jasper(`/devices/${iccidA}`)).body as Record<string, unknown>;
    assert.deepEqual(
      [details.ratePlan, details.communicationPlan, details.accountCustom2, details.deviceID],
      ['IoT 1GB', 'CP_Static_IP', 'cost-7', 'pump-1'],
    );
  });

  it('enforces the status transition matrix and accepts the current status as a no-op', async () => {
    await start();
    assert.deepEqual(jasperTransitions.ACTIVATED, ['DEACTIVATED']);
    const refused = await put(iccidB, { status: 'INVENTORY' });
    assert.deepEqual(
      statusAndBody(refused),
      error(400, jasperErrorCodes.invalidStatusChange, 'Invalid status change from ACTIVATED to INVENTORY'),
    );
    assert.equal(line(iccidB).state, 'ACTIVATED');
    const updatedBefore = line(iccidB).dateUpdated;
    assert.equal((await put(iccidB, { status: 'ACTIVATED' })).status, 200);
    assert.equal(line(iccidB).dateUpdated, updatedBefore, 'a no-op changes nothing');
    assert.equal((await put(iccidB, { status: 'DEACTIVATED' })).status, 200);
    assert.equal((await put(iccidB, { status: 'RETIRED' })).status, 200);
    assert.equal((await put(iccidB, { status: 'ACTIVATED' })).status, 400, 'RETIRED is final');
  });

  it('refuses bad edits with their own codes and leaves the line untouched', async () => {
    await start();
    const before = structuredClone(line(iccidA));
    const cases: [unknown, string][] = [
      [{ status: 'SUSPENDED' }, jasperErrorCodes.invalidStatus],
      [{ ratePlan: 'Nope 5GB' }, jasperErrorCodes.unknownRatePlan],
      [{ communicationPlan: 'CP_Static_IP' }, jasperErrorCodes.communicationPlanNotAllowed],
      [{ ratePlan: 'IoT Basic 1MB', communicationPlan: 'CP_Data_SMS', status: 'ACTIVATED' }, '20000019'],
      [{}, jasperErrorCodes.noEditableField],
      [{ effectiveDate: new Date().toISOString() }, jasperErrorCodes.noEditableField],
      [{ somethingElse: 1 }, jasperErrorCodes.unknownField],
      [{ status: 'ACTIVATED', effectiveDate: inDays(181) }, jasperErrorCodes.invalidEffectiveDate],
      [{ status: 'ACTIVATED', effectiveDate: 'next tuesday' }, jasperErrorCodes.invalidEffectiveDate],
      [{ status: 7 }, jasperErrorCodes.invalidRequest],
      [[], jasperErrorCodes.invalidRequest],
      ['{"status": ', jasperErrorCodes.invalidRequest],
    ];
    for (const [body, code] of cases) {
      const response = await put(iccidA, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((response.body as { errorCode: string }).errorCode, code, JSON.stringify(body));
    }
    assert.deepEqual(line(iccidA), before);
  });

  it('applies a change with an effectiveDate at once and keeps the date', async () => {
    await start();
    const effectiveDate = inDays(30);
    assert.equal((await put(iccidA, { ratePlan: 'IoT 1GB', effectiveDate })).status, 200);
    assert.equal(line(iccidA).ratePlan, 'IoT 1GB');
    assert.equal(line(iccidA).effectiveDate, effectiveDate);
  });
});

describe('Jasper simulator: usage and audit trail', () => {
  it('answers the cycle usage seeded for a line, and 404 for an unknown ICCID', async () => {
    await start();
    await seedLines(base, [{ iccid: iccidA, ctdDataUsage: 5_000_000 }]);
    const usage = await jasper(`/devices/${iccidA}/ctdUsages`);
    assert.equal(usage.status, 200);
    const body = usage.body as Record<string, unknown>;
    assert.deepEqual([body.iccid, body.ctdDataUsage, body.ratePlan], [iccidA, 5_000_000, 'IoT 10MB']);
    assert.deepEqual(
      statusAndBody(await jasper('/devices/8988216716970000009/ctdUsages')),
      error(404, jasperErrorCodes.iccidNotFound, 'Resource not found - Iccid does not exist'),
    );
  });

  it('records each changed field in the audit trail, newest first, and refuses a bad query', async () => {
    await start();
    assert.equal((await put(iccidA, { ratePlan: 'IoT 100MB', accountCustom2: 'x' })).status, 200);
    assert.equal((await put(iccidA, { status: 'ACTIVATED' })).status, 200);
    const trail = await jasper(`/devices/${iccidA}/auditTrails?daysOfHistory=1`);
    assert.equal(trail.status, 200);
    const entries = (trail.body as { deviceAuditTrails: Array<Record<string, unknown>>; lastPage: boolean })
      .deviceAuditTrails;
    assert.deepEqual(
      entries.map((entry) => [entry.field, entry.priorValue, entry.value, entry.status, entry.userName]),
      [
        ['SIM Status', 'INVENTORY', 'ACTIVATED', 'Executed', 'demo'],
        ['Rate Plan', 'IoT 10MB', 'IoT 100MB', 'Executed', 'demo'],
        ['accountCustom2', null, 'x', 'Executed', 'demo'],
      ],
    );
    const tooLong = await jasper(`/devices/${iccidA}/auditTrails?daysOfHistory=366`);
    assert.deepEqual(
      [tooLong.status, (tooLong.body as { errorCode: string }).errorCode],
      [400, jasperErrorCodes.invalidQueryParameter],
    );
  });

  it('answers 200 to a listed custom field set to a value not listed, then keeps the old value (Error)', async () => {
    await start({
      ...unlimited,
      customFields: { accountCustom1: { label: 'Username', values: ['fleet.ops'] } },
    });
    assert.equal((await put(iccidA, { accountCustom1: 'fleet.ops' })).status, 200);
    assert.deepEqual(statusAndBody(await put(iccidA, { accountCustom1: 'nobody' })), {
      status: 200,
      body: { iccid: iccidA },
    });
    assert.equal(line(iccidA).customFields.accountCustom1, 'fleet.ops');
    const trail = await jasper(`/devices/${iccidA}/auditTrails`);
    const [newest, older] = (trail.body as { deviceAuditTrails: Array<Record<string, unknown>> })
      .deviceAuditTrails;
    assert.deepEqual(
      [newest.field, newest.value, newest.status, older.status],
      ['Username', 'nobody', 'Error', 'Executed'],
    );
  });
});

describe('Jasper simulator: search', () => {
  it('pages lines modified since a time, 50 at most per page', async () => {
    await start();
    const before = new Date(Date.now() - 1000).toISOString();
    const lines = Array.from({ length: 118 }, (_, i) => ({
      iccid: `89882167169700${String(i).padStart(5, '0')}`,
    }));
    await admin('/devices', { method: 'POST', body: lines });
    const page = async (query: string) => {
      const response = await jasper(`/devices?modifiedSince=${encodeURIComponent(before)}${query}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as {
        pageNumber: number;
        devices: { iccid: string; status: string }[];
        lastPage: boolean;
      };
    };
    const pages = [await page(''), await page('&pageNumber=2'), await page('&pageNumber=3&pageSize=50')];
    assert.deepEqual(
      pages.map((p) => [p.pageNumber, p.devices.length, p.lastPage]),
      [
        [1, 50, false],
        [2, 50, false],
        [3, 20, true],
      ],
    );
    const all = pages.flatMap((p) => p.devices.map((device) => device.iccid));
    assert.equal(new Set(all).size, 120, 'no line twice, none missing');
    assert.deepEqual(Object.keys(pages[0].devices[0]).sort(), [
      'communicationPlan',
      'iccid',
      'ratePlan',
      'status',
    ]);
    const active = await page('&status=ACTIVATED&pageSize=10');
    assert.deepEqual(
      active.devices.map((device) => device.iccid),
      [iccidB],
    );
    const future = await jasper(`/devices?modifiedSince=${encodeURIComponent(inDays(1))}`);
    assert.deepEqual((future.body as { devices: unknown[] }).devices, []);
  });

  it('requires modifiedSince, a window of at most a year, and a page size of at most 50', async () => {
    await start();
    const missing = await jasper('/devices');
    assert.deepEqual(
      statusAndBody(missing),
      error(400, jasperErrorCodes.invalidQueryParameter, 'modifiedSince is required'),
    );
    const since = encodeURIComponent(new Date().toISOString());
    assert.equal((await jasper(`/devices?modifiedSince=${since}&pageSize=51`)).status, 400);
    assert.equal((await jasper('/devices?modifiedSince=yesterday')).status, 400);
    const longAgo = encodeURIComponent('2020-01-01T00:00:00+00:00');
    const tooLong = await jasper(`/devices?modifiedSince=${longAgo}`);
    assert.deepEqual(
      statusAndBody(tooLong),
      error(
        400,
        jasperErrorCodes.invalidQueryParameter,
        'modifiedSince to modifiedTill (or now) must be a window of at most one year',
      ),
    );
    const till = encodeURIComponent('2020-12-31T00:00:00+00:00');
    assert.equal((await jasper(`/devices?modifiedSince=${longAgo}&modifiedTill=${till}`)).status, 200);
    assert.equal(sim.calls.count({ action: 'search_devices', status: 400 }), 4);
  });
});

describe('Jasper simulator: limits and faults', () => {
  // Serial, as a Jasper client is; stops at the first refusal so that a slow machine cannot refill the bucket.
  const burstUntilRefused = async (send: () => ReturnType<typeof httpJson>) => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await send();
      statuses.push(response.status);
      if (response.status === 429) return { statuses, refused: response };
    }
    assert.fail(`never refused: ${statuses}`);
  };

  it('answers 429 with Retry-After when a client bursts above 5 requests per second', async () => {
    await start({});
    const { statuses, refused } = await burstUntilRefused(() => jasper(`/devices/${iccidA}`));
    assert.ok(statuses.length >= 6, `${statuses}`);
    assert.ok(
      statuses.slice(0, -1).every((status) => status === 200),
      `${statuses}`,
    );
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((refused.body as { errorCode: string }).errorCode, jasperErrorCodes.rateLimited);
    assert.equal(sim.stats().rateLimited, 1);
    assert.equal(sim.calls.count({ status: 429 }), 1);
  });

  it('throttles before it authenticates, as a gateway does', async () => {
    await start({});
    const { statuses } = await burstUntilRefused(() => httpJson(`${base}/rws/api/v1/devices/${iccidA}`));
    assert.ok(statuses.length >= 6 && statuses.slice(0, -1).every((status) => status === 401), `${statuses}`);
  });

  it('answers 429 to a request made while another is in flight', async () => {
    await start({ faults: { latencyMs: 80 } });
    const responses = await Promise.all([1, 2, 3].map(() => jasper(`/devices/${iccidA}`)));
    assert.deepEqual(responses.map((response) => response.status).sort(), [200, 429, 429]);
    const refused = responses.find((response) => response.status === 429);
    assert.equal(
      (refused?.body as { errorCode: string } | undefined)?.errorCode,
      jasperErrorCodes.tooManyConcurrent,
    );
    assert.equal(sim.stats().maxObservedConcurrency, 1);
  });

  it('stamps a call with its arrival, even when the caller gave up before the answer', async () => {
    // The call log is how limits are measured at the carrier: a request abandoned during a slow answer
    // (a client timeout) once appeared as arriving when it was answered, next to later requests.
    await start({ faults: { latencyMs: 400, rateLimitPerSecond: null, maxConcurrent: null } });
    const sentAt = Date.now();
    const abandoned = fetch(`${base}/rws/api/v1/devices/${iccidA}`, {
      headers: demoAuth,
      signal: AbortSignal.timeout(50),
    });
    await assert.rejects(abandoned);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const [call] = (await admin(`/calls?iccid=${iccidA}&action=get_device`)).body as CallEntry[];
    assert.ok(call, 'the abandoned request is in the log');
    const stampedAfterSendMs = Date.parse(call.at) - sentAt;
    assert.ok(
      stampedAfterSendMs >= 0 && stampedAfterSendMs < 200,
      `stamped ${stampedAfterSendMs} ms after it was sent (answered 400 ms after)`,
    );
  });

  it('counts the PUTs each ICCID received in the call log', async () => {
    await start();
    await put(iccidA, { status: 'ACTIVATED' });
    await put(iccidA, { status: 'ACTIVATED' });
    await put(iccidA, { status: 'INVENTORY' });
    await put(iccidB, { status: 'DEACTIVATED' });
    await jasper(`/devices/${iccidA}`);
    const callsA = (await admin(`/calls?iccid=${iccidA}&action=put_device`)).body as CallEntry[];
    assert.deepEqual(
      callsA.map((call) => [call.method, call.path, call.status]),
      [
        ['PUT', `/rws/api/v1/devices/${iccidA}`, 200],
        ['PUT', `/rws/api/v1/devices/${iccidA}`, 200],
        ['PUT', `/rws/api/v1/devices/${iccidA}`, 400],
      ],
    );
    assert.equal(sim.calls.count({ iccid: iccidB, action: 'put_device' }), 1);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'get_device' }), 1);
  });

  it('answers 503 to everything during an outage, credentials or not', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { outage: true } });
    const response = await jasper(`/devices/${iccidA}`);
    assert.deepEqual(statusAndBody(response), {
      status: 503,
      body: {
        errorMessage: 'Service temporarily unavailable',
        errorCode: jasperErrorCodes.serviceUnavailable,
      },
    });
    assert.equal((await httpJson(`${base}/rws/api/v1/devices/${iccidA}`)).status, 503);
    assert.equal((await put(iccidA, { status: 'ACTIVATED' })).status, 503);
    assert.equal(line(iccidA).state, 'INVENTORY', 'nothing happened');
  });

  it('gives exactly errorBurst 500s, then recovers', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { errorBurst: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await put(iccidA, { accountCustom1: `v${i}` })).status);
    assert.deepEqual(statuses, [500, 500, 200, 200]);
    assert.equal(line(iccidA).customFields.accountCustom1, 'v3', 'the refused edits were not applied');
    assert.equal(sim.calls.count({ action: 'put_device', status: 500 }), 2);
  });

  it('resets to no lines, no calls and the Jasper default faults', async () => {
    await start({ faults: { latencyMs: 1 } });
    await jasper(`/devices/${iccidA}`);
    await admin('/faults', {
      method: 'PUT',
      body: { rateLimitPerSecond: 100, maxConcurrent: null, outage: true },
    });
    assert.equal((await admin('/reset', { method: 'POST' })).status, 204);
    assert.deepEqual((await admin('/devices')).body, []);
    assert.deepEqual((await admin('/calls')).body, []);
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual(
      [faults.rateLimitPerSecond, faults.maxConcurrent, faults.outage, faults.latencyMs],
      [5, 1, false, 1],
    );
    assert.equal((await jasper(`/devices/${iccidA}`)).status, 404);
  });

  it('refuses a seed with an unknown rate plan or a communication plan outside it', async () => {
    await start();
    for (const seed of [
      { iccid: iccidA, ratePlan: 'Gold' },
      { iccid: iccidA, ratePlan: 'IoT Basic 1MB', communicationPlan: 'CP_Data_SMS' },
      { iccid: iccidA, status: 'ON' },
    ]) {
      assert.equal(
        (await admin('/devices', { method: 'POST', body: [seed] })).status,
        400,
        JSON.stringify(seed),
      );
    }
  });
});

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}
