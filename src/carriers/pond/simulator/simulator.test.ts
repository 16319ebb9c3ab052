import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../../../shared/time.ts';
import type { SimulatorServer } from '../../simulator-kit/simulator.ts';
import { httpJson, seedLines, type TestRequest } from '../../simulator-kit/test-client.ts';
import {
  createPondSimulator,
  type PondPackage,
  type PondSimLine,
  type PondSimulatorOptions,
  pondDefaultFaults,
  pondPackageTypes,
} from './simulator.ts';

const iccidA = '8944500102030405061';
const iccidB = '8944500102030405079';
const unknownIccid = '8944500102030409999';
const demoKey = { 'x-api-key': 'demo-pond-key' };
const unlimited = { faults: { rateLimitPerSecond: null, maxConcurrent: null } };
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sim: SimulatorServer<PondSimLine>;
let base: string;

const start = async (options: PondSimulatorOptions = unlimited) => {
  sim = createPondSimulator(options);
  base = await sim.listen();
  await seedLines(base, [
    { iccid: iccidA, imei: '356938035643809', msisdn: '447700900123', packageTypeId: 'PT-1GB' },
    { iccid: iccidB, state: 'ENABLED' },
  ]);
};
const pond = (path: string, request: TestRequest = {}, distributor = 'demo-distributor') =>
  httpJson(`${base}/${distributor}${path}`, { ...request, headers: { ...demoKey, ...request.headers } });
const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const statusAndBody = ({ status, body }: { status: number; body: unknown }) => ({ status, body });
const errorCode = (response: { body: unknown }) => (response.body as { error: { code: string } }).error.code;
const packagesOf = (iccid: string): PondPackage[] => {
  const line = sim.store.get(iccid);
  assert.ok(line, `line ${iccid} exists`);
  return line.packages;
};
const addPackage = async (iccid: string, packageTypeId: string) => {
  const response = await pond(`/devices/${iccid}/packages`, { method: 'POST', body: { packageTypeId } });
  assert.equal(response.status, 201);
  return response.body as PondPackage & { iccid: string };
};
const setPackageStatus = (packageId: string, packageStatus: string, method = 'POST') =>
  pond(`/packages/${packageId}/status`, { method, body: { packageStatus } });
const setFaults = async (faults: unknown) => {
  const response = await admin('/faults', { method: 'PUT', body: faults });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as Record<string, unknown>;
};

afterEach(() => sim.close());

describe('POND simulator: distributors and authentication', () => {
  it('refuses a missing or wrong x-api-key with 401 UNAUTHORIZED', async () => {
    await start();
    for (const headers of [{ 'x-api-key': '' }, { 'x-api-key': 'wrong' }]) {
      const response = await pond(`/devices/${iccidA}`, { headers });
      assert.equal(response.status, 401);
      assert.equal(errorCode(response), 'UNAUTHORIZED');
      assert.equal(typeof (response.body as { error: { message: unknown } }).error.message, 'string');
    }
    const none = await httpJson(`${base}/demo-distributor/devices/${iccidA}`);
    assert.equal(none.status, 401);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'get_device', status: 401 }), 3);
  });

  it('answers 404 for an unknown distributor, and keys are per distributor', async () => {
    await start({ ...unlimited, distributors: { north: 'key-n', south: 'key-s' } });
    const unknown = await pond(`/devices/${iccidA}`, { headers: { 'x-api-key': 'key-n' } }, 'west');
    assert.deepEqual(statusAndBody(unknown), {
      status: 404,
      body: { error: { code: 'DISTRIBUTOR_NOT_FOUND', message: 'Distributor west not found' } },
    });
    const crossed = await pond(`/devices/${iccidA}`, { headers: { 'x-api-key': 'key-s' } }, 'north');
    assert.equal(crossed.status, 401);
    const own = await pond(`/devices/${iccidA}`, { headers: { 'x-api-key': 'key-s' } }, 'south');
    assert.equal(own.status, 200);
    assert.equal((await pond(`/devices/${iccidA}`)).status, 404, 'the demo distributor is gone');
  });

  it('applies the default limits (the sixth concurrent request gets 429) and renders kit faults', async () => {
    assert.deepEqual(pondDefaultFaults, { rateLimitPerSecond: 10, maxConcurrent: 5 });
    await start({});
    await setFaults({ latencyMs: 200 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => pond(`/devices/${iccidA}`)));
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 2);
    assert.equal(errorCode(refused[0]), 'TOO_MANY_CONCURRENT_REQUESTS');
    assert.equal(refused[0].headers.get('retry-after'), '1');
    await setFaults({ latencyMs: 0, outage: true });
    const outage = await pond(`/devices/${iccidA}`);
    assert.deepEqual([outage.status, errorCode(outage)], [503, 'SERVICE_UNAVAILABLE']);
  });
});

describe('POND simulator: devices', () => {
  it('returns a device with its services', async () => {
    await start();
    assert.deepEqual(statusAndBody(await pond(`/devices/${iccidA}`)), {
      status: 200,
      body: {
        iccid: iccidA,
        imei: '356938035643809',
        msisdn: '447700900123',
        status: 'DISABLED',
        services: { data: false, sms: false },
      },
    });
    const enabled = await pond(`/devices/${iccidB}`);
    assert.deepEqual(enabled.body, {
      iccid: iccidB,
      imei: null,
      msisdn: null,
      status: 'ENABLED',
      services: { data: true, sms: true },
    });
  });

  it('answers 404 DEVICE_NOT_FOUND for an unknown ICCID on every device route', async () => {
    await start();
    const attempts = [
      pond(`/devices/${unknownIccid}`),
      pond(`/devices/${unknownIccid}/packages`),
      pond(`/devices/${unknownIccid}/packages`, { method: 'POST', body: { packageTypeId: 'PT-1GB' } }),
      pond(`/devices/${unknownIccid}/status`),
      pond(`/devices/${unknownIccid}/status`, { method: 'POST', body: { enabled: true } }),
    ];
    for (const response of await Promise.all(attempts)) {
      assert.equal(response.status, 404);
      assert.equal(errorCode(response), 'DEVICE_NOT_FOUND');
    }
    assert.equal(sim.calls.count({ iccid: unknownIccid, status: 404 }), 5);
  });

  it('lists devices by page: count defaults to 10, at most 100', async () => {
    await start();
    const seeds = Array.from({ length: 12 }, (_, index) => ({ iccid: `89445001020300000${10 + index}` }));
    await admin('/devices', { method: 'POST', body: seeds });
    const first = (await pond('/devices')).body as {
      total: number;
      count: number;
      items: { iccid: string }[];
    };
    assert.equal(first.total, 14);
    assert.equal(first.count, 10);
    assert.deepEqual(
      first.items.map((item) => item.iccid),
      seeds.slice(0, 10).map((seed) => seed.iccid),
      'sorted by ICCID',
    );
    const last = await pond('/devices?offset=10&count=100');
    assert.equal(last.status, 200);
    const lastPage = last.body as { offset: number; count: number; items: { iccid: string }[] };
    assert.deepEqual(
      [lastPage.offset, lastPage.count, lastPage.items.map((item) => item.iccid)],
      [10, 100, [seeds[10].iccid, seeds[11].iccid, iccidA, iccidB]],
    );
    for (const query of ['count=101', 'count=0', 'offset=-1', 'count=ten']) {
      const refused = await pond(`/devices?${query}`);
      assert.equal(refused.status, 400, query);
      assert.equal(errorCode(refused), 'BAD_REQUEST');
    }
  });

  it('reads and sets the status of all services, idempotently', async () => {
    await start();
    assert.deepEqual((await pond(`/devices/${iccidA}/status`)).body, {
      iccid: iccidA,
      status: 'DISABLED',
      services: { data: false, sms: false },
    });
    const enabled = { iccid: iccidA, status: 'ENABLED', services: { data: true, sms: true } };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await pond(`/devices/${iccidA}/status`, { method: 'POST', body: { enabled: true } });
      assert.deepEqual(statusAndBody(response), { status: 200, body: enabled });
    }
    assert.equal(sim.store.get(iccidA)?.state, 'ENABLED');
    const disabled = await pond(`/devices/${iccidA}/status`, { method: 'POST', body: { enabled: false } });
    assert.equal((disabled.body as { status: string }).status, 'DISABLED');
    assert.equal(sim.store.get(iccidA)?.state, 'DISABLED');
    const refused = await pond(`/devices/${iccidA}/status`, { method: 'POST', body: { enabled: 'yes' } });
    assert.equal(refused.status, 400);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'set_device_status' }), 4);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'get_device_status' }), 1);
  });
});

describe('POND simulator: packages', () => {
  it('lists the package types', async () => {
    await start();
    const response = await pond('/package-types');
    assert.equal(response.status, 200);
    const body = response.body as { total: number; items: unknown[] };
    assert.equal(body.total, pondPackageTypes.length);
    assert.deepEqual(body.items, pondPackageTypes);
    assert.ok(pondPackageTypes.some((type) => type.packageTypeId === 'PT-1GB' && type.dataMb === 1024));
    const second = (await pond('/package-types?offset=1&count=2')).body as { items: unknown[] };
    assert.deepEqual(second.items, pondPackageTypes.slice(1, 3));
    assert.equal(sim.calls.count({ action: 'list_package_types', status: 200 }), 2);
  });

  it('seeds a line with one ACTIVE package, and re-seeding does not add another', async () => {
    await start();
    const [seeded] = packagesOf(iccidA);
    assert.equal(seeded.status, 'ACTIVE');
    assert.equal(seeded.packageTypeId, 'PT-1GB');
    assert.equal(seeded.activatedAt, seeded.createdAt);
    await admin('/devices', { method: 'POST', body: [{ iccid: iccidA, packageTypeId: 'PT-1GB' }] });
    assert.equal(packagesOf(iccidA).length, 1);
    await admin('/devices', { method: 'POST', body: [{ iccid: iccidA, packageTypeId: 'PT-5GB' }] });
    assert.deepEqual(
      packagesOf(iccidA).map((p) => [p.packageTypeId, p.status]),
      [
        ['PT-1GB', 'ACTIVE'],
        ['PT-5GB', 'ACTIVE'],
      ],
    );
    const [shown] = (await admin(`/devices?iccid=${iccidA}`)).body as PondSimLine[];
    assert.equal(shown.packages.length, 2);
    assert.equal(shown.ratePlan, 'PT-5GB');
    assert.equal(shown.imei, '356938035643809', 'the upsert kept the other fields');
    const refused = await admin('/devices', {
      method: 'POST',
      body: [{ iccid: iccidB, packageTypeId: 'PT-2TB' }],
    });
    assert.equal(refused.status, 400);
  });

  it('runs a rate plan change: add PENDING, activate it, terminate the old one', async () => {
    await start();
    const [old] = packagesOf(iccidA);
    const added = await addPackage(iccidA, 'PT-5GB');
    assert.match(added.packageId, uuid);
    assert.deepEqual(
      { packageTypeId: added.packageTypeId, iccid: added.iccid, status: added.status },
      { packageTypeId: 'PT-5GB', iccid: iccidA, status: 'PENDING' },
    );
    assert.ok(Date.now() - Date.parse(added.createdAt) < 5000);

    const activated = await setPackageStatus(added.packageId, 'ACTIVE');
    assert.equal(activated.status, 200);
    const active = activated.body as PondPackage;
    assert.equal(active.status, 'ACTIVE');
    assert.ok(active.activatedAt !== undefined);
    assert.deepEqual(
      packagesOf(iccidA).map((p) => p.status),
      ['ACTIVE', 'ACTIVE'],
      'POND lets a line hold two ACTIVE packages',
    );

    const terminated = await setPackageStatus(old.packageId, 'TERMINATED', 'PUT');
    assert.equal(terminated.status, 200);
    assert.equal((terminated.body as PondPackage).status, 'TERMINATED');
    assert.ok((terminated.body as PondPackage).terminatedAt !== undefined);

    const listed = await pond(`/devices/${iccidA}/packages`);
    const body = listed.body as { total: number; items: (PondPackage & { iccid: string })[] };
    assert.equal(body.total, 2);
    assert.deepEqual(
      body.items.map((p) => [p.packageId, p.status, p.iccid]),
      [
        [old.packageId, 'TERMINATED', iccidA],
        [added.packageId, 'ACTIVE', iccidA],
      ],
      'oldest first, every status',
    );
    assert.equal(sim.store.get(iccidA)?.ratePlan, 'PT-5GB');
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'set_package_status' }), 2);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'add_package', status: 201 }), 1);
  });

  it('treats setting the status a package already has as a no-op, by POST and PUT', async () => {
    await start();
    const added = await addPackage(iccidB, 'PT-100MB');
    const first = await setPackageStatus(added.packageId, 'ACTIVE');
    const activatedAt = (first.body as PondPackage).activatedAt;
    await sleep(5); // a re-applied move would carry a later time
    for (const method of ['POST', 'PUT']) {
      const again = await setPackageStatus(added.packageId, 'ACTIVE', method);
      assert.equal(again.status, 200);
      assert.equal((again.body as PondPackage).activatedAt, activatedAt, 'not activated again');
    }
    await setPackageStatus(added.packageId, 'TERMINATED');
    const terminatedAt = packagesOf(iccidB)[0].terminatedAt;
    await sleep(5);
    const repeated = await setPackageStatus(added.packageId, 'TERMINATED', 'PUT');
    assert.equal(repeated.status, 200);
    assert.equal((repeated.body as PondPackage).terminatedAt, terminatedAt);
  });

  it('terminates a PENDING package and refuses to revive a TERMINATED one', async () => {
    await start();
    const added = await addPackage(iccidB, 'PT-10GB');
    assert.equal((await setPackageStatus(added.packageId, 'TERMINATED')).status, 200);
    const revived = await setPackageStatus(added.packageId, 'ACTIVE');
    assert.equal(revived.status, 409);
    assert.equal(errorCode(revived), 'INVALID_PACKAGE_TRANSITION');
    assert.equal(packagesOf(iccidB)[0].status, 'TERMINATED');
    assert.equal(packagesOf(iccidB)[0].activatedAt, undefined);
  });

  it('refuses unknown packages, unknown package types and invalid bodies', async () => {
    await start();
    const missing = await setPackageStatus('00000000-0000-4000-8000-000000000000', 'ACTIVE');
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'PACKAGE_NOT_FOUND');
    const unknownType = await pond(`/devices/${iccidA}/packages`, {
      method: 'POST',
      body: { packageTypeId: 'PT-2TB' },
    });
    assert.equal(unknownType.status, 400);
    assert.equal(errorCode(unknownType), 'UNKNOWN_PACKAGE_TYPE');
    const noType = await pond(`/devices/${iccidA}/packages`, { method: 'POST', body: {} });
    assert.equal(errorCode(noType), 'BAD_REQUEST');
    const [seeded] = packagesOf(iccidA);
    const pending = await setPackageStatus(seeded.packageId, 'PENDING');
    assert.equal(pending.status, 400);
    const malformed = await pond(`/devices/${iccidA}/packages`, {
      method: 'POST',
      body: '{"packageTypeId":',
    });
    assert.deepEqual([malformed.status, errorCode(malformed)], [400, 'BAD_REQUEST']);
    assert.equal(packagesOf(iccidA).length, 1);
  });
});

describe('POND simulator: failOperations', () => {
  it('fails a matching termination with 500 INTERNAL_ERROR without applying it', async () => {
    await start();
    const [old] = packagesOf(iccidA);
    const faults = await setFaults({
      failOperations: [{ action: 'set_package_status', iccid: iccidA, packageStatus: 'TERMINATED' }],
    });
    assert.deepEqual(faults.failOperations, [
      { action: 'set_package_status', iccid: iccidA, packageStatus: 'TERMINATED' },
    ]);
    const added = await addPackage(iccidA, 'PT-5GB');
    assert.equal((await setPackageStatus(added.packageId, 'ACTIVE')).status, 200, 'activation still works');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const refused = await setPackageStatus(old.packageId, 'TERMINATED');
      assert.deepEqual(statusAndBody(refused), {
        status: 500,
        body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
      });
    }
    assert.equal(packagesOf(iccidA)[0].status, 'ACTIVE', 'not terminated');
    const other = await addPackage(iccidB, 'PT-1GB');
    assert.equal((await setPackageStatus(other.packageId, 'TERMINATED')).status, 200, 'other lines work');
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'set_package_status', status: 500 }), 2);
  });

  it('fails only `times` matching requests, then works again', async () => {
    await start();
    await setFaults({
      failOperations: [
        { action: 'add_package', times: 2 },
        { action: 'set_device_status', iccid: iccidB, times: 1 },
      ],
    });
    const add = () =>
      pond(`/devices/${iccidA}/packages`, { method: 'POST', body: { packageTypeId: 'PT-100MB' } });
    assert.equal((await add()).status, 500);
    assert.deepEqual(((await admin('/faults')).body as { failOperations: unknown }).failOperations, [
      { action: 'add_package', times: 1 },
      { action: 'set_device_status', iccid: iccidB, times: 1 },
    ]);
    assert.equal((await add()).status, 500);
    assert.equal(packagesOf(iccidA).length, 1, 'nothing was added');
    assert.equal((await add()).status, 201);
    assert.equal(packagesOf(iccidA).length, 2);

    const disable = (iccid: string) =>
      pond(`/devices/${iccid}/status`, { method: 'POST', body: { enabled: false } });
    assert.equal((await disable(iccidA)).status, 200, 'the rule names another line');
    assert.equal((await disable(iccidB)).status, 500);
    assert.equal(sim.store.get(iccidB)?.state, 'ENABLED');
    assert.equal((await disable(iccidB)).status, 200);
    assert.equal(sim.store.get(iccidB)?.state, 'DISABLED');
    assert.deepEqual(((await admin('/faults')).body as { failOperations: unknown }).failOperations, []);
  });

  it('refuses malformed rules and takes rules as an option', async () => {
    await start({
      ...unlimited,
      faults: { ...unlimited.faults, failOperations: [{ action: 'add_package' }] },
    });
    const refused = await admin('/faults', {
      method: 'PUT',
      body: { failOperations: [{ action: 'delete' }] },
    });
    assert.equal(refused.status, 400);
    const add = await pond(`/devices/${iccidA}/packages`, {
      method: 'POST',
      body: { packageTypeId: 'PT-1GB' },
    });
    assert.equal(add.status, 500);
    await setFaults({ failOperations: [] });
    assert.equal(
      (await pond(`/devices/${iccidA}/packages`, { method: 'POST', body: { packageTypeId: 'PT-1GB' } }))
        .status,
      201,
    );
  });
});

describe('POND simulator: call log and reset', () => {
  it('names every action and the ICCIDs concerned', async () => {
    await start();
    const added = await addPackage(iccidA, 'PT-5GB');
    await pond(`/devices/${iccidA}`);
    await pond('/devices');
    await pond('/package-types');
    await pond(`/devices/${iccidA}/packages`);
    await setPackageStatus(added.packageId, 'ACTIVE');
    await setPackageStatus(added.packageId, 'TERMINATED', 'PUT');
    await pond(`/devices/${iccidA}/status`);
    await pond(`/devices/${iccidA}/status`, { method: 'POST', body: { enabled: true } });
    const calls = sim.calls
      .query()
      .map(({ method, action, iccids, status }) => ({ method, action, iccids, status }));
    assert.deepEqual(calls, [
      { method: 'POST', action: 'add_package', iccids: [iccidA], status: 201 },
      { method: 'GET', action: 'get_device', iccids: [iccidA], status: 200 },
      { method: 'GET', action: 'list_devices', iccids: [], status: 200 },
      { method: 'GET', action: 'list_package_types', iccids: [], status: 200 },
      { method: 'GET', action: 'list_packages', iccids: [iccidA], status: 200 },
      { method: 'POST', action: 'set_package_status', iccids: [iccidA], status: 200 },
      { method: 'PUT', action: 'set_package_status', iccids: [iccidA], status: 200 },
      { method: 'GET', action: 'get_device_status', iccids: [iccidA], status: 200 },
      { method: 'POST', action: 'set_device_status', iccids: [iccidA], status: 200 },
    ]);
    const logged = (await admin(`/calls?iccid=${iccidA}&action=set_package_status`)).body as unknown[];
    assert.equal(logged.length, 2);
  });

  it('reset drops lines, packages, calls and failure rules', async () => {
    await start();
    const added = await addPackage(iccidA, 'PT-5GB');
    await setFaults({ failOperations: [{ action: 'add_package' }], latencyMs: 5 });
    assert.equal((await admin('/reset', { method: 'POST' })).status, 204);
    assert.equal(sim.store.size, 0);
    assert.equal(sim.calls.count(), 0);
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.deepEqual([faults.failOperations, faults.latencyMs], [[], 0]);
    assert.equal(
      (await setPackageStatus(added.packageId, 'ACTIVE')).status,
      404,
      'the package index is gone',
    );
    await admin('/devices', { method: 'POST', body: [{ iccid: iccidA }] });
    assert.equal(
      (await pond(`/devices/${iccidA}/packages`, { method: 'POST', body: { packageTypeId: 'PT-1GB' } }))
        .status,
      201,
    );
  });
});
