import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../../../shared/time.ts';
import type { CallEntry } from '../../simulator-kit/call-log.ts';
import type { SimulatorServer } from '../../simulator-kit/simulator.ts';
import { httpJson, seedLines, type TestRequest, type TestResponse } from '../../simulator-kit/test-client.ts';
import {
  createTelegenceSimulator,
  type TelegenceSimLine,
  type TelegenceSimulatorOptions,
  telegenceBillingAccounts,
} from './simulator.ts';

const activeBan = telegenceBillingAccounts[0].ban;
const cancelledBan = telegenceBillingAccounts.find((account) => account.status === 'cancelled')!.ban;
const iccid = (n: number) => `8901170425231600${String(n).padStart(4, '0')}`;
const imei = (n: number) => `3530380600${String(n).padStart(5, '0')}`;
const esimImei = '352999110000017';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const appHeaders = { 'app-id': 'demo-app', 'app-secret': 'demo-app-secret' };
const fast = { activationStepMs: 20, ipProvisionMs: 20, rateLimitPerSecond: null, maxConcurrent: null };

let sim: SimulatorServer<TelegenceSimLine>;
let base: string;

const start = async (options: TelegenceSimulatorOptions = {}) => {
  sim = createTelegenceSimulator({ ...options, faults: { ...fast, ...options.faults } });
  base = await sim.listen();
};
const telegence = (path: string, request: TestRequest = {}) =>
  httpJson(`${base}${path}`, { ...request, headers: { ...appHeaders, ...request.headers } });
const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const seed = (lines: object[]) => seedLines(base, lines);
const setFaults = async (faults: object) =>
  assert.equal((await admin('/faults', { method: 'PUT', body: faults })).status, 200);
const statusAndBody = ({ status, body }: TestResponse) => ({ status, body });

/** Polls `read` until `done` holds for its value; real timers drive the simulator. */
const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out; last value: ${JSON.stringify(value)}`);
    await sleep(5);
  }
};

// --- activation helpers ---
interface ActivationElement {
  id: string;
  interactionStatus: string;
  interactionDate: string;
  interactionDateComplete: string | null;
  service: {
    name: string;
    status: string;
    error: { code: string; description: string } | null;
    subscriberNumber: string | null;
    serviceCharacteristic: { name: string; value: string }[];
  };
}
const activation = (
  simIccid: string,
  fields: { imei?: string; soc?: string; ban?: string; zip?: string; features?: string[] } = {},
) => ({
  billingAccount: { id: fields.ban ?? activeBan },
  relatedParty: [{ role: 'subscriber', firstName: 'Jane', lastName: 'Doe', address: { zipCode: '75201' } }],
  service: {
    name: '',
    category: { id: '', name: '' },
    serviceSpecification: { id: '12', href: 'Mobility Services' },
    serviceCharacteristic: [
      { name: 'sim', value: simIccid },
      { name: 'IMEI', value: fields.imei ?? imei(1) },
      { name: 'singleUserCode', value: fields.soc ?? 'APX1G5M30' },
      { name: 'serviceZipCode', value: fields.zip ?? '75201' },
      ...(fields.features ?? []).map((value, index) => ({ name: `offeringCode${index + 1}`, value })),
    ],
  },
});
const activate = async (elements: object[]) => {
  const response = await telegence('/sp/mobility/serviceactivation/api/v1/activations', {
    method: 'POST',
    body: elements,
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as ActivationElement[];
};
const activationStatus = async (id: string) => {
  const response = await telegence(`/sp/mobility/serviceactivation/api/v1/activations/${id}`);
  assert.equal(response.status, 200);
  return response.body as ActivationElement[];
};
const completed = (id: string) =>
  until(
    () => activationStatus(id),
    (elements) => elements.every((element) => element.interactionStatus === 'Completed'),
  );

// --- line helpers ---
const linePath = (msisdn: string) => `/sp/mobility/lineconfig/api/v1/service/${msisdn}`;
const characteristics = (body: unknown) =>
  Object.fromEntries(
    (body as { serviceCharacteristic: { name: string; value: string }[] }).serviceCharacteristic.map(
      ({ name, value }) => [name, value],
    ),
  );
const getLine = async (msisdn: string) => {
  const response = await telegence(linePath(msisdn));
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return characteristics(response.body);
};
const patch = (msisdn: string, entries: [string, string][], effectiveDate?: string) =>
  telegence(linePath(msisdn), {
    method: 'PATCH',
    body: { effectiveDate, serviceCharacteristic: entries.map(([name, value]) => ({ name, value })) },
  });
/** A status change, with the reason code the status needs. */
const setStatus = (msisdn: string, subscriberStatus: string, reasonCode?: string) => {
  const entries: [string, string][] = [['subscriberStatus', subscriberStatus]];
  if (reasonCode !== undefined) entries.push(['reasonCode', reasonCode]);
  return patch(msisdn, entries);
};
const refusal = (errorDescription: string) => ({ status: 400, body: { errorDescription } });
const storedLine = (iccid: string) => {
  const line = sim.store.get(iccid);
  assert.ok(line, `line ${iccid} exists`);
  return line;
};
const msisdnA = '4695550101';
const msisdnB = '4695550102';
const seedTwoLines = () =>
  seed([
    { iccid: iccid(1), imei: imei(1), msisdn: msisdnA, zipCode: '75201', contactName: 'Pump 1' },
    { iccid: iccid(2), msisdn: msisdnB, state: 'S', ratePlan: 'APX5GM30', features: ['SMSBLK'] },
  ]);

// --- dates, in UTC as the simulator keeps them ---
const day = 86_400_000;
const dateOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);
const today = () => Date.now() - (Date.now() % day);
const firstOfMonth = () => {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
};

afterEach(() => sim.close());

describe('Telegence simulator: authentication and faults', () => {
  it('refuses calls without a configured app-id / app-secret pair, and logs them', async () => {
    await start({ apps: { fleet: 's3cret' } });
    await seedTwoLines();
    const attempts: Record<string, string>[] = [
      {},
      { 'app-id': 'fleet' },
      { 'app-id': 'fleet', 'app-secret': 'wrong' },
      appHeaders,
    ];
    for (const headers of attempts) {
      const response = await httpJson(`${base}${linePath(msisdnA)}`, { headers });
      assert.deepEqual(statusAndBody(response), {
        status: 401,
        body: { errorDescription: 'Invalid app-id or app-secret' },
      });
    }
    const accepted = await httpJson(`${base}${linePath(msisdnA)}`, {
      headers: { 'app-id': 'fleet', 'app-secret': 's3cret' },
    });
    assert.equal(accepted.status, 200);
    assert.equal(sim.calls.count({ iccid: iccid(1), action: 'get_line', status: 401 }), 4);
  });

  it('has the documented default faults and its own, and answers kit failures as errorDescription', async () => {
    sim = createTelegenceSimulator();
    base = await sim.listen();
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual(
      [faults.rateLimitPerSecond, faults.maxConcurrent, faults.activationStepMs, faults.ipProvisionMs],
      [20, 10, 1000, 1000],
    );
    assert.deepEqual([faults.ipPoolSize, faults.esimOnlyTacs, faults.rejectIccids], [1000, ['35299911'], {}]);
    assert.equal((await admin('/faults', { method: 'PUT', body: { ipPoolSize: -1 } })).status, 400);
    assert.equal((await admin('/faults', { method: 'PUT', body: { esimTacs: [] } })).status, 400);
    await setFaults({ outage: true });
    assert.deepEqual(statusAndBody(await telegence('/billingaccounts/1')), {
      status: 503,
      body: { errorDescription: 'Service temporarily unavailable' },
    });
    await setFaults({ outage: false, rateLimitPerSecond: 2 });
    const burst = await Promise.all([1, 2, 3].map(() => telegence(`/billingaccounts/${activeBan}`)));
    const refused = burst.find((response) => response.status === 429);
    assert.ok(refused, 'one call of the burst is throttled');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.deepEqual(refused.body, { errorDescription: 'Request rate limit exceeded' });
  });
});

describe('Telegence simulator: service activation', () => {
  it('activates a mixed batch: every line on its own, one shared id, numbers only for active lines', async () => {
    await start();
    await seed([{ iccid: iccid(90), msisdn: '4695550190' }]);
    await setFaults({ rejectIccids: { [iccid(11)]: 'Credit check failed' } });
    const sims = [iccid(10), iccid(11), iccid(90), iccid(13), iccid(14), iccid(15), iccid(16), iccid(17)];
    const answered = await activate([
      activation(sims[0], { features: ['STATICIP', 'HOTSPOT'] }),
      activation(sims[1]),
      activation(sims[2]),
      activation(sims[3], { soc: 'NOSUCHSOC' }),
      activation(sims[4], { ban: cancelledBan }),
      activation(sims[5], { imei: esimImei }),
      activation(sims[6], { features: ['TELEPORT'] }),
      activation(sims[7], { zip: '7520' }),
    ]);
    const id = answered[0].id;
    assert.match(id, uuid);
    assert.deepEqual(
      answered.map((element) => [
        element.id,
        element.interactionStatus,
        element.interactionDateComplete,
        element.service,
      ]),
      sims.map((posted) => [
        id,
        'InProgress',
        null,
        {
          name: '',
          status: 'pending',
          error: null,
          subscriberNumber: null,
          serviceCharacteristic: [
            { name: 'sim', value: posted },
            { name: 'IMEI', value: posted === iccid(15) ? esimImei : imei(1) },
          ],
        },
      ]),
    );

    const done = await completed(id);
    assert.ok(done.every((element) => element.id === id && element.interactionDateComplete !== null));
    assert.deepEqual(
      done.map(({ service }) => [service.name, service.status, service.error?.code ?? null]),
      [
        ['', 'active', null],
        ['', 'rejected', 'REJECTED'],
        ['', 'rejected', 'SIM_IN_USE'],
        ['', 'rejected', 'INVALID_SOC'],
        ['', 'rejected', 'INVALID_BAN'],
        ['/service/', 'rejected', null],
        ['', 'rejected', 'INVALID_FEATURE'],
        ['', 'rejected', 'INVALID_ZIP'],
      ],
    );
    assert.equal(done[1].service.error?.description, 'Credit check failed');
    const number = done[0].service.subscriberNumber;
    assert.equal(number, '2145550000');
    assert.ok(done.slice(1).every((element) => element.service.subscriberNumber === null));

    const line = await getLine('2145550000');
    assert.deepEqual(
      [line.subscriberStatus, line.sim, line.BLIMEI, line.singleUserCode, line.serviceZipCode],
      ['A', iccid(10), imei(1), 'APX1G5M30', '75201'],
    );
    assert.deepEqual(
      [line.offeringCode1, line.offeringCode2, line.contactName],
      ['STATICIP', 'HOTSPOT', 'Jane Doe'],
    );
    assert.equal(line.billingAccountNumber, activeBan);
    assert.equal(line.subscriberActivationDate, `${dateOf(Date.now())}Z`);
    assert.deepEqual(
      sim.store
        .list()
        .map((line) => line.iccid)
        .sort(),
      [iccid(10), iccid(90)],
      'only the activated line was added',
    );
    assert.equal(storedLine(iccid(90)).msisdn, '4695550190', 'the line already using the SIM is untouched');

    const logged = sim.calls.query({ action: 'activate' });
    assert.deepEqual(
      logged.map((call) => [call.status, call.iccids]),
      [[201, sims]],
    );
    assert.deepEqual(sim.calls.query({ action: 'activation_status' })[0].iccids, sims);
  });

  it('moves each line pending → reserved (with a number, no line yet) → active (the line exists)', async () => {
    await start({ faults: { activationStepMs: 250 } });
    await seed([{ iccid: iccid(80), msisdn: '2145550000' }]);
    const [{ id }] = await activate([activation(iccid(20)), activation(iccid(21))]);
    const reserved = await until(
      () => activationStatus(id),
      (elements) => elements[0].service.status !== 'pending',
    );
    assert.deepEqual(
      reserved.map(({ interactionStatus, service }) => [
        interactionStatus,
        service.status,
        service.subscriberNumber,
      ]),
      [
        ['InProgress', 'reserved', '2145550001'],
        ['InProgress', 'reserved', '2145550002'],
      ],
      'numbers skip the one a line already has',
    );
    assert.equal(sim.store.get(iccid(20)), undefined);
    const done = await completed(id);
    assert.deepEqual(
      done.map(({ service }) => service.status),
      ['active', 'active'],
    );
    assert.equal(storedLine(iccid(21)).msisdn, '2145550002');
  });

  it('gives a SIM to the first of two unfinished activations only, across and within requests', async () => {
    await start();
    const first = await activate([activation(iccid(30)), activation(iccid(31))]);
    const second = await activate([activation(iccid(30)), activation(iccid(32)), activation(iccid(32))]);
    const [one, two] = [await completed(first[0].id), await completed(second[0].id)];
    assert.deepEqual(
      one.map(({ service }) => service.status),
      ['active', 'active'],
    );
    assert.deepEqual(
      two.map(({ service }) => service.error?.code ?? service.status),
      ['SIM_IN_USE', 'active', 'SIM_IN_USE'],
    );
    const all = (await admin('/activations')).body as {
      id: string;
      elements: { iccid: string; status: string }[];
    }[];
    assert.deepEqual(
      all.map((request) => [request.id, request.elements.map((element) => element.status)]),
      [
        [first[0].id, ['active', 'active']],
        [second[0].id, ['rejected', 'active', 'rejected']],
      ],
    );
  });

  it('reactivates a SIM whose line was cancelled', async () => {
    await start();
    await seed([{ iccid: iccid(40), msisdn: '4695550140', state: 'C' }]);
    const [{ id }] = await activate([activation(iccid(40))]);
    assert.equal((await completed(id))[0].service.status, 'active');
    assert.equal(storedLine(iccid(40)).msisdn, '2145550000');
    assert.equal((await telegence(linePath('4695550140'))).status, 404, 'the old number left with the line');
  });

  it('refuses a whole request that is not an array, has more than 200 elements or lacks a characteristic', async () => {
    await start();
    const post = (body: unknown) =>
      telegence('/sp/mobility/serviceactivation/api/v1/activations', { method: 'POST', body });
    const tooMany = Array.from({ length: 201 }, (_, index) => activation(iccid(index)));
    assert.deepEqual(
      statusAndBody(await post(tooMany)),
      refusal('At most 200 service activations per request'),
    );
    const withoutImei = activation(iccid(2));
    withoutImei.service.serviceCharacteristic = withoutImei.service.serviceCharacteristic.filter(
      (entry) => entry.name !== 'IMEI',
    );
    for (const body of [{ service: {} }, [], [activation(iccid(1)), withoutImei]]) {
      assert.equal((await post(body)).status, 400, JSON.stringify(body).slice(0, 80));
    }
    assert.match(
      ((await post([withoutImei])).body as { errorDescription: string }).errorDescription,
      /IMEI: is required/,
    );
    assert.deepEqual((await admin('/activations')).body, []);
    assert.equal(sim.calls.query({ action: 'activate', status: 400 })[0].iccids.length, 201);
    assert.deepEqual(
      statusAndBody(await telegence('/sp/mobility/serviceactivation/api/v1/activations/nope')),
      { status: 404, body: { errorDescription: 'Activation request not found' } },
    );
  });
});

describe('Telegence simulator: line config', () => {
  it('returns the line detail, and 404 for an unknown subscriber', async () => {
    await start();
    await seedTwoLines();
    const response = await telegence(linePath(msisdnB));
    assert.equal(response.status, 200);
    assert.equal((response.body as { subscriberNumber: string }).subscriberNumber, msisdnB);
    const detail = characteristics(response.body);
    const nextCycle = new Date(firstOfMonth());
    nextCycle.setUTCMonth(nextCycle.getUTCMonth() + 1);
    assert.deepEqual(detail, {
      subscriberStatus: 'S',
      singleUserCode: 'APX5GM30',
      sim: iccid(2),
      offeringCode1: 'SMSBLK',
      billingAccountNumber: activeBan,
      // Dates as AT&T writes them.
      subscriberActivationDate: `${dateOf(Date.now())}Z`,
      statusEffectiveDate: `${dateOf(Date.now())}Z`,
      nextBillCycleDate: `${dateOf(nextCycle.getTime())}Z`,
    });
    const { category, serviceSpecification } = response.body as Record<string, unknown>;
    assert.deepEqual(
      [category, serviceSpecification],
      [
        { id: '', name: '' },
        { id: '12', href: 'Mobility Services' },
      ],
    );
    assert.deepEqual(statusAndBody(await telegence(linePath('4695559999'))), {
      status: 404,
      body: { errorDescription: 'Subscriber not found' },
    });
  });

  it('suspends, restores and cancels with reason codes, refusing invalid transitions', async () => {
    await start();
    await seedTwoLines();
    const status = async () => (await getLine(msisdnA)).subscriberStatus;
    assert.deepEqual(
      statusAndBody(await setStatus(msisdnA, 'S')),
      refusal('Invalid reason code (none) for subscriber status S'),
    );
    assert.deepEqual(
      statusAndBody(await setStatus(msisdnA, 'S', 'FOUND')),
      refusal('Invalid reason code FOUND for subscriber status S'),
    );
    assert.deepEqual(
      statusAndBody(await setStatus(msisdnA, 'A', 'FOUND')),
      refusal('Invalid status transition from A to A'),
    );
    const suspended = await setStatus(msisdnA, 'S', 'LOST_STOLEN');
    assert.equal(suspended.status, 200);
    assert.equal(characteristics(suspended.body).subscriberStatus, 'S');
    assert.equal(await status(), 'S');
    assert.deepEqual(
      statusAndBody(await setStatus(msisdnA, 'A', 'NONPAY')),
      refusal('Invalid reason code NONPAY for subscriber status A'),
    );
    assert.equal((await setStatus(msisdnA, 'A', 'FOUND')).status, 200);
    assert.equal(await status(), 'A');
    assert.equal((await setStatus(msisdnA, 'C', 'FRAUD')).status, 200);
    assert.equal(await status(), 'C');
    assert.deepEqual(
      statusAndBody(await setStatus(msisdnA, 'A', 'FOUND')),
      refusal('Invalid status transition from C to A'),
    );
    assert.deepEqual(
      statusAndBody(await patch(msisdnA, [['contactName', 'Pump 9']])),
      refusal(`Subscriber ${msisdnA} is cancelled`),
    );
    assert.equal((await setStatus(msisdnB, 'C', 'PORT_OUT')).status, 200);
    assert.equal(storedLine(iccid(2)).state, 'C', 'a suspended line can be cancelled');
    assert.equal(
      sim.calls.count({ iccid: iccid(1), action: 'update_line' }),
      9,
      'every PATCH is logged against the line',
    );
  });

  it('changes the rate plan of an active line only, atomically with the rest of the update', async () => {
    await start();
    await seedTwoLines();
    const changed = await patch(msisdnA, [['singleUserCode', 'APXUNLM30']]);
    assert.equal(characteristics(changed.body).singleUserCode, 'APXUNLM30');
    assert.deepEqual(
      statusAndBody(
        await patch(msisdnA, [
          ['contactName', 'Renamed'],
          ['singleUserCode', 'APXNOPE'],
        ]),
      ),
      refusal('Invalid rate plan APXNOPE'),
    );
    assert.deepEqual(
      [storedLine(iccid(1)).contactName, storedLine(iccid(1)).ratePlan],
      ['Pump 1', 'APXUNLM30'],
      'nothing of a refused update applies',
    );
    assert.deepEqual(
      statusAndBody(await patch(msisdnB, [['singleUserCode', 'APX250M30']])),
      refusal(`A rate plan change needs an active line; subscriber ${msisdnB} is S`),
    );
    const restoredAndChanged = await patch(msisdnB, [
      ['subscriberStatus', 'A'],
      ['reasonCode', 'CUST_REQ'],
      ['singleUserCode', 'APX250M30'],
    ]);
    assert.equal(characteristics(restoredAndChanged.body).singleUserCode, 'APX250M30');
    assert.deepEqual(
      statusAndBody(await patch(msisdnA, [['deviceColour', 'blue']])),
      refusal('Unsupported characteristic deviceColour'),
    );
    // An equipment change carries the line's SOC, ZIP and technology type, as AT&T's field usage does.
    const swap = await patch(msisdnA, [
      ['reasonCode', 'CUST_OWN_EQU'],
      ['serviceZipCode', '75201'],
      ['singleUserCode', 'APX250M30'],
      ['technologyType', 'LTE'],
      ['IMEI', imei(7)],
    ]);
    assert.equal(swap.status, 200, JSON.stringify(swap.body));
    assert.deepEqual(
      [characteristics(swap.body).BLIMEI, characteristics(swap.body).BLDeviceTechnologyType],
      [imei(7), 'LTE'],
    );
  });

  it('swaps SIM and IMEI, refusing a SIM in use and answering an eSIM-only device with /service/', async () => {
    await start();
    await seedTwoLines();
    await seed([{ iccid: iccid(3), msisdn: '4695550103', imei: esimImei }]);
    const swapped = await patch(msisdnA, [
      ['sim', iccid(9)],
      ['IMEI', imei(9)],
    ]);
    assert.equal(swapped.status, 200);
    assert.deepEqual(
      [characteristics(swapped.body).sim, characteristics(swapped.body).BLIMEI],
      [iccid(9), imei(9)],
    );
    assert.equal(sim.store.get(iccid(1)), undefined, 'the old SIM is no longer a line');
    assert.equal(storedLine(iccid(9)).msisdn, msisdnA);
    assert.equal((await getLine(msisdnA)).sim, iccid(9));
    assert.deepEqual(sim.calls.query({ action: 'update_line' })[0].iccids.sort(), [iccid(1), iccid(9)]);

    assert.deepEqual(
      statusAndBody(await patch(msisdnA, [['sim', iccid(2)]])),
      refusal(`SIM ${iccid(2)} is in use on another line`),
    );
    const esim = await patch('4695550103', [['sim', iccid(8)]]);
    assert.equal(esim.status, 404);
    assert.equal((esim.body as { description: string }).description, '/service/');
    assert.match((esim.body as { id: string }).id, uuid);
    const toEsimDevice = await patch(msisdnA, [
      ['IMEI', esimImei],
      ['sim', iccid(8)],
    ]);
    assert.equal(toEsimDevice.status, 404, 'the new IMEI decides');
    assert.equal((await patch(msisdnA, [['IMEI', esimImei]])).status, 200, 'an IMEI alone is fine');
    assert.equal(storedLine(iccid(9)).imei, esimImei);
  });

  it('adds and removes features, refusing unknown ones', async () => {
    await start();
    await seedTwoLines();
    const added = await patch(msisdnA, [
      ['addOfferingCode', 'STATICIP'],
      ['addOfferingCode', 'INTLROAM'],
    ]);
    assert.deepEqual(
      [characteristics(added.body).offeringCode1, characteristics(added.body).offeringCode2],
      ['STATICIP', 'INTLROAM'],
    );
    const removed = await patch(msisdnA, [
      ['removeOfferingCode', 'STATICIP'],
      ['removeOfferingCode', 'HOTSPOT'],
    ]);
    assert.equal(removed.status, 200, 'removing a feature the line lacks is a no-op');
    assert.deepEqual(storedLine(iccid(1)).features, ['INTLROAM']);
    assert.deepEqual(
      statusAndBody(await patch(msisdnA, [['addOfferingCode', 'WARPDRIVE']])),
      refusal('Invalid offering code WARPDRIVE'),
    );
    assert.deepEqual(storedLine(iccid(1)).features, ['INTLROAM']);
  });

  it('takes an effective date from the start of the bill cycle to 30 days ahead and records it', async () => {
    await start();
    await seedTwoLines();
    const cycleStart = firstOfMonth();
    const name = (value: string): [string, string][] => [['contactName', value]];
    const refused = [dateOf(cycleStart - day), dateOf(today() + 31 * day), '2025-02-30', '07/01/2025'];
    for (const date of refused) {
      const response = await patch(msisdnA, name('x'), date);
      assert.equal(response.status, 400, date);
      assert.match(
        (response.body as { errorDescription: string }).errorDescription,
        /^Invalid effective date /,
      );
    }
    // Either form: ISO's, or AT&T's own with the trailing Z.
    for (const date of [dateOf(cycleStart), `${dateOf(today() + 30 * day)}Z`]) {
      const accepted = await patch(msisdnA, name(date), date);
      assert.equal(accepted.status, 200, date);
      assert.equal(characteristics(accepted.body).statusEffectiveDate, `${date.slice(0, 10)}Z`);
    }
    assert.equal(storedLine(iccid(1)).contactName, `${dateOf(today() + 30 * day)}Z`);
  });
});

describe('Telegence simulator: accounts', () => {
  it('returns billing accounts, seeded ones too', async () => {
    await start();
    assert.deepEqual((await telegence(`/billingaccounts/${activeBan}`)).body, {
      id: activeBan,
      status: 'active',
      foundationAccountNumber: '05831234',
      billCycleDay: 1,
      name: 'Demo Fleet',
    });
    assert.equal(
      ((await telegence(`/billingaccounts/${cancelledBan}`)).body as { status: string }).status,
      'cancelled',
    );
    assert.deepEqual(statusAndBody(await telegence('/billingaccounts/111111111')), {
      status: 404,
      body: { errorDescription: 'Billing account not found' },
    });
    const account = { ban: '111111111', fan: '0001', status: 'active', billCycleDay: 12, name: 'New' };
    const seeded = await admin('/billing-accounts', { method: 'POST', body: [account] });
    assert.deepEqual(seeded.body, { created: 1, updated: 0 });
    assert.equal(
      ((await telegence('/billingaccounts/111111111')).body as { billCycleDay: number }).billCycleDay,
      12,
    );
    const invalid = await admin('/billing-accounts', {
      method: 'POST',
      body: [{ ...account, billCycleDay: 31 }],
    });
    assert.equal(invalid.status, 400);
    assert.equal((invalid.body as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
  });

  it('lists lines page by page with the page count in page-total', async () => {
    await start();
    const numbers = ['4695550105', '4695550103', '4695550101', '4695550104', '4695550102'];
    await seed(numbers.map((msisdn, index) => ({ iccid: iccid(index), msisdn })));
    const page = async (headers: Record<string, string>) => {
      const response = await telegence('/sp/mobility/api/v1/account', { headers });
      assert.equal(response.status, 200);
      return {
        total: response.headers.get('page-total'),
        numbers: (response.body as { subscriberNumber: string }[]).map((line) => line.subscriberNumber),
      };
    };
    const sorted = [...numbers].sort();
    assert.deepEqual(await page({}), { total: '1', numbers: sorted });
    assert.deepEqual(await page({ 'page-size': '2' }), { total: '3', numbers: sorted.slice(0, 2) });
    assert.deepEqual(await page({ 'page-size': '2', 'current-page': '3' }), {
      total: '3',
      numbers: sorted.slice(4),
    });
    assert.deepEqual(await page({ 'page-size': '2', 'current-page': '4' }), { total: '3', numbers: [] });
    const tooBig = await telegence('/sp/mobility/api/v1/account', { headers: { 'page-size': '251' } });
    assert.equal(tooBig.status, 400);
  });

  it('seeds lines by upsert, checking codes and numbers', async () => {
    await start();
    await seedTwoLines();
    await seed([{ iccid: iccid(1), msisdn: msisdnA, state: 'S' }]);
    const [line] = (await admin(`/devices?iccid=${iccid(1)}`)).body as TelegenceSimLine[];
    assert.deepEqual(
      [line.state, line.imei, line.contactName, line.ratePlan, line.ban, line.zipCode],
      ['S', imei(1), 'Pump 1', 'APX250M30', activeBan, '75201'],
    );
    for (const bad of [
      { iccid: iccid(5), msisdn: '4695550155', ratePlan: 'NOPE' },
      { iccid: iccid(5), msisdn: '4695550155', features: ['NOPE'] },
      { iccid: iccid(5), msisdn: '4695550155', ban: '999999999' },
      { iccid: iccid(5), msisdn: msisdnA },
      { iccid: '123', msisdn: '4695550155' },
    ]) {
      assert.equal(
        (await admin('/devices', { method: 'POST', body: [bad] })).status,
        400,
        JSON.stringify(bad),
      );
    }
    assert.equal(sim.store.size, 2);
  });
});

describe('Telegence simulator: static IP', () => {
  const pdpName = 'ACME.PDP';
  const reserve = async (ipQuantity: number, pdp = pdpName) => {
    const response = await telegence('/sp/mobility/ipaddress/api/v1/reservations', {
      method: 'POST',
      body: { pdpName: pdp, ipQuantity },
    });
    assert.equal(response.status, 200);
    return response.body as { ipAddressRecords: { ipAddress: string; pdpName: string }[]; message: string };
  };
  const subscriber = (subscriberNumber: string, ipAddress: string) => ({
    subscriberNumber,
    ipAddressRecord: { ipAddress },
    lteIndicator: 'Y',
    defaultAPNIndicator: 'N',
    accessPointName: 'acme.apn',
    effectiveDate: `${dateOf(Date.now())}Z`,
  });
  const provision = (subscribers: object[]) =>
    telegence('/sp/mobility/ipaddress/api/v1/provisioning', {
      method: 'POST',
      body: { pdpName, billingAccountNumber: activeBan, subscriber: subscribers },
    });
  const ipStatus = async (headers: Record<string, string>) => {
    const response = await telegence('/sp/mobility/ipaddress/api/v1/provisioning/status', { headers });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body as Record<string, unknown>[];
  };

  it('reserves from the pool in order until it runs dry', async () => {
    await start({ faults: { ipPoolSize: 5 } });
    await seed([{ iccid: iccid(1), msisdn: msisdnA, ipAddress: '10.64.0.2' }]);
    const first = await reserve(3);
    assert.deepEqual(
      first.ipAddressRecords,
      ['10.64.0.1', '10.64.0.3', '10.64.0.4'].map((ipAddress) => ({ ipAddress, pdpName })),
      'an address a line has is not free',
    );
    const second = await reserve(3);
    assert.deepEqual(
      second.ipAddressRecords.map((record) => record.ipAddress),
      ['10.64.0.5'],
    );
    assert.match(second.message, /Only 1 of 3/);
    assert.deepEqual((await reserve(1)).ipAddressRecords, []);
    assert.deepEqual((await admin('/ip-pool')).body, { size: 5, free: 0, reserved: 4, assigned: 1 });
    const tooMany = await telegence('/sp/mobility/ipaddress/api/v1/reservations', {
      method: 'POST',
      body: { pdpName, ipQuantity: 11 },
    });
    assert.equal(tooMany.status, 400);
    assert.equal(typeof (tooMany.body as { message: string }).message, 'string');
  });

  it('provisions reserved addresses: pending, then a result per subscriber, by batch id or number', async () => {
    await start({ faults: { ipProvisionMs: 150 } });
    await seedTwoLines();
    await seed([{ iccid: iccid(3), msisdn: '4695550103', state: 'C' }]);
    const [ipA, ipB, ipC] = (await reserve(3)).ipAddressRecords.map((record) => record.ipAddress);
    const other = (await reserve(1, 'OTHER.PDP')).ipAddressRecords[0].ipAddress;
    const accepted = await provision([
      subscriber(msisdnA, ipA),
      subscriber(msisdnB, other),
      subscriber('4695550103', ipB),
      subscriber('4695559999', ipC),
    ]);
    assert.equal(accepted.status, 200);
    const message = (accepted.body as { message: string }).message;
    assert.match(
      message,
      /^Your request has been received and will be submitted for processing\. You may check the status with the subscriber-number or batch-id: /,
    );
    const batchId = message.split(' ').at(-1)!;
    assert.match(batchId, uuid);

    const pending = await ipStatus({ 'batch-id': batchId });
    assert.deepEqual(
      pending.map((entry) => [entry.batchId, entry.profileCheck, entry.ipReservation, entry.profileUpdate]),
      Array(4).fill([batchId, 'Pending', 'Pending', 'Pending']),
    );
    const done = await until(
      () => ipStatus({ 'batch-id': batchId }),
      (entries) => entries.every((entry) => entry.profileCheck !== 'Pending'),
    );
    assert.deepEqual(
      done.map((entry) => [
        entry.subscriberNumber,
        entry.profileCheck,
        entry.ipReservation,
        entry.profileUpdate,
      ]),
      [
        [msisdnA, 'Success', 'Reserved', 'Complete'],
        [msisdnB, 'Failed', 'Failed', 'Failed'],
        ['4695550103', 'Failed', 'Failed', 'Failed'],
        ['4695559999', 'Failed', 'Failed', 'Failed'],
      ],
    );
    assert.deepEqual(
      done.slice(1).map((entry) => entry.message),
      [
        `IP address ${other} is not reserved for ${pdpName}`,
        'Subscriber 4695550103 is cancelled',
        'Subscriber 4695559999 not found',
      ],
    );
    assert.deepEqual(done[0].ipAddressRecord, { ipAddress: ipA });
    assert.equal((await getLine(msisdnA)).ipAddress, ipA);
    assert.equal(storedLine(iccid(2)).ipAddress, null);
    assert.deepEqual((await ipStatus({ 'subscriber-number': msisdnA })).length, 1);
    assert.deepEqual((await admin('/ip-pool')).body, { size: 1000, free: 996, reserved: 3, assigned: 1 });
    assert.deepEqual(
      sim.calls.query({ action: 'provision_ips' })[0].iccids,
      [iccid(1), iccid(2), iccid(3)],
      'unknown subscribers name no SIM',
    );
  });

  it('refuses more than 10 subscribers and an unknown batch', async () => {
    await start();
    const eleven = Array.from({ length: 11 }, (_, index) =>
      subscriber(`46955502${String(index).padStart(2, '0')}`, '10.64.0.1'),
    );
    assert.deepEqual(statusAndBody(await provision(eleven)), {
      status: 400,
      body: { message: 'At most 10 subscribers per request' },
    });
    assert.deepEqual(
      statusAndBody(
        await telegence('/sp/mobility/ipaddress/api/v1/provisioning/status', {
          headers: { 'batch-id': 'nope' },
        }),
      ),
      { status: 404, body: { message: 'Batch not found' } },
    );
  });
});

describe('Telegence simulator: call log and reset', () => {
  it('names each operation in the call log', async () => {
    await start();
    await seedTwoLines();
    await telegence(linePath(msisdnA));
    await patch(msisdnA, [['contactName', 'x']]);
    await telegence(`/billingaccounts/${activeBan}`);
    await telegence('/sp/mobility/api/v1/account');
    const [{ id }] = await activate([activation(iccid(50))]);
    await telegence(`/sp/mobility/serviceactivation/api/v1/activations/${id}`);
    await telegence('/sp/mobility/ipaddress/api/v1/reservations', {
      method: 'POST',
      body: { pdpName: 'P', ipQuantity: 1 },
    });
    const calls = (await admin('/calls')).body as CallEntry[];
    assert.deepEqual(
      calls.map((call) => [call.action, call.iccids]),
      [
        ['get_line', [iccid(1)]],
        ['update_line', [iccid(1)]],
        ['billing_account', []],
        ['list_lines', []],
        ['activate', [iccid(50)]],
        ['activation_status', [iccid(50)]],
        ['reserve_ips', []],
      ],
    );
  });

  it('clears lines, activations, reservations, seeded accounts, faults and pending timers', async () => {
    await start({ faults: { activationStepMs: 100 } });
    await seedTwoLines();
    await admin('/billing-accounts', {
      method: 'POST',
      body: [{ ban: '111111111', fan: '1', status: 'active', billCycleDay: 2, name: 'x' }],
    });
    await setFaults({ ipPoolSize: 3, rejectIccids: { [iccid(60)]: 'no' } });
    await activate([activation(iccid(61))]);
    await telegence('/sp/mobility/ipaddress/api/v1/reservations', {
      method: 'POST',
      body: { pdpName: 'P', ipQuantity: 2 },
    });

    assert.equal((await admin('/reset', { method: 'POST' })).status, 204);
    await sleep(300);
    assert.deepEqual((await admin('/devices')).body, [], 'the pending activation never completed');
    assert.deepEqual((await admin('/activations')).body, []);
    assert.deepEqual((await admin('/calls')).body, []);
    assert.deepEqual((await admin('/ip-pool')).body, { size: 1000, free: 1000, reserved: 0, assigned: 0 });
    assert.equal((await telegence('/billingaccounts/111111111')).status, 404);
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual([faults.activationStepMs, faults.rejectIccids], [100, {}]);
    const [{ id }] = await activate([activation(iccid(61))]);
    assert.equal((await completed(id))[0].service.subscriberNumber, '2145550000', 'numbering starts over');
  });

  it('stops its pending work on close', async () => {
    await start({ faults: { activationStepMs: 50 } });
    await activate([activation(iccid(70))]);
    await sim.close();
    await sleep(200);
    assert.equal(sim.store.size, 0, 'the activation never completed');
  });
});
