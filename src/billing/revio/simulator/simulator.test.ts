import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { CallEntry } from '../../../carriers/simulator-kit/call-log.ts';
import type { SimulatorServer } from '../../../carriers/simulator-kit/simulator.ts';
import { httpJson, type TestRequest } from '../../../carriers/simulator-kit/test-client.ts';
import {
  createRevioSimulator,
  type RevioSimService,
  type RevioSimulatorOptions,
  revioDefaultFaults,
} from './simulator.ts';

const iccidA = '89011703278101234567';
const iccidB = '89011703278101234575';
const basic = (login: string, password: string) =>
  `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const subscriptionKey = { 'ocp-apim-subscription-key': 'demo-subscription-key' };
const demoAuth = { authorization: basic('demo@bulkchange', 'demo-rev-password'), ...subscriptionKey };
const unlimited = { faults: { rateLimitPerSecond: null, maxConcurrent: null } };
const jsonPatch = { 'content-type': 'application/json-patch+json' };

let sim: SimulatorServer<RevioSimService>;
let base: string;

const start = async (options: RevioSimulatorOptions = unlimited) => {
  sim = createRevioSimulator(options);
  base = await sim.listen();
};
const rev = (path: string, request: TestRequest = {}) =>
  httpJson(`${base}/v1${path}`, { ...request, headers: { ...demoAuth, ...request.headers } });
const admin = (path: string, request?: TestRequest) => httpJson(`${base}/_sim${path}`, request);
const revError = (status: number, error: string, message: string) => ({
  status,
  body: [{ id: null, ok: false, error, message }],
});
const statusAndBody = ({ status, body }: { status: number; body: unknown }) => ({ status, body });

const serviceBody = {
  customer_id: 1001,
  provider_id: 3,
  service_type_id: 10,
  number: '882350000000001',
  number2: iccidA,
  activated_date: '2024-05-01Z',
};
/** Creates a service and returns its id. */
const createService = async (body: object = serviceBody): Promise<number> => {
  const response = await rev('/Services', { method: 'POST', body });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  const { id, ok } = response.body as { id: number; ok: boolean };
  assert.equal(ok, true);
  return id;
};
const records = (response: { body: unknown }) =>
  (response.body as { records: Record<string, unknown>[] }).records;
const patchService = (id: number, operations: unknown, headers = jsonPatch) =>
  rev(`/Services/${id}`, { method: 'PATCH', body: operations, headers });

afterEach(() => sim.close());

describe('Rev.io simulator: authentication', () => {
  it('refuses missing or wrong credentials with the array body', async () => {
    await start();
    const refused = [
      undefined,
      basic('demo@bulkchange', 'wrong'),
      basic('nobody@bulkchange', 'x'),
      'Basic !!!',
    ];
    for (const authorization of refused) {
      const headers: Record<string, string> =
        authorization === undefined ? { ...subscriptionKey } : { authorization, ...subscriptionKey };
      const response = await httpJson(`${base}/v1/Customers`, { headers });
      assert.deepEqual(statusAndBody(response), revError(401, 'Unauthorized', 'Invalid credentials'));
    }
    assert.equal(sim.calls.count({ action: 'list_customers', status: 401 }), refused.length);
  });

  it('refuses a call without the subscription key, or with an unknown one, at the gateway', async () => {
    await start();
    const missing = await httpJson(`${base}/v1/Customers`, {
      headers: { authorization: basic('demo@bulkchange', 'demo-rev-password') },
    });
    assert.equal(missing.status, 401);
    assert.match((missing.body as { message: string }).message, /missing subscription key/);
    const unknown = await rev('/Customers', { headers: { 'ocp-apim-subscription-key': 'guess' } });
    assert.deepEqual([unknown.status, (unknown.body as { statusCode: number }).statusCode], [401, 401]);
    assert.match((unknown.body as { message: string }).message, /invalid subscription key/);
    assert.equal((await rev('/Customers')).status, 200, 'key and Basic auth together pass');
  });

  it('accepts the users it was given, login@clientcode', async () => {
    await start({ ...unlimited, users: { 'ops@acme': 's3cret' } });
    const response = await rev('/Customers', { headers: { authorization: basic('ops@acme', 's3cret') } });
    assert.equal(response.status, 200);
    assert.equal((await rev('/Customers')).status, 401, 'the default user is gone');
  });
});

describe('Rev.io simulator: customers and catalog', () => {
  it('pages customers and reads one', async () => {
    await start();
    const firstPage = await rev('/Customers?page=1&page_size=2');
    assert.deepEqual(firstPage.body, {
      records: [
        { customer_id: 1001, name: 'Acme Logistics', status: 'ACTIVE' },
        { customer_id: 1002, name: 'Northwind Fleet', status: 'ACTIVE' },
      ],
      record_count: 4,
      page: 1,
      page_size: 2,
    });
    const lastPage = await rev('/Customers?page=2&page_size=2');
    assert.deepEqual(
      records(lastPage).map((customer) => customer.customer_id),
      [1003, 1009],
    );
    assert.deepEqual((await rev('/Customers/1009')).body, {
      customer_id: 1009,
      name: 'Closed Co',
      status: 'CLOSED',
    });
    assert.deepEqual(
      statusAndBody(await rev('/Customers/4242')),
      revError(404, 'NotFound', 'Customer 4242 does not exist'),
    );
    assert.deepEqual(
      statusAndBody(await rev('/Customers?page_size=0')),
      revError(400, 'BadRequest', 'page_size: expected a positive integer'),
    );
  });

  it('lists products, service types and providers', async () => {
    await start();
    const products = await rev('/Products');
    assert.equal(products.status, 200);
    assert.deepEqual(products.body, {
      records: [
        { product_id: 501, description: 'IoT line fee', rate: 2.5 },
        { product_id: 502, description: 'Static IP', rate: 5 },
        { product_id: 503, description: 'Data 1GB', rate: 8 },
      ],
      record_count: 3,
    });
    assert.deepEqual((await rev('/ServiceTypes')).body, {
      records: [
        { service_type_id: 10, description: 'IoT Data' },
        { service_type_id: 11, description: 'Mobility' },
      ],
      record_count: 2,
    });
    const providers = await rev('/Providers');
    assert.deepEqual(
      records(providers).map((provider) => provider.name),
      ['AT&T', 'Verizon', 'Cisco Jasper', 'POND', 'Teal'],
    );
  });

  it('upserts customers through the admin API', async () => {
    await start();
    const seeded = await admin('/customers', {
      method: 'POST',
      body: [
        { customer_id: 2001, name: 'Fabrikam' },
        { customer_id: 1001, name: 'Acme Logistics', status: 'CLOSED' },
      ],
    });
    assert.deepEqual(seeded.body, { created: 1, updated: 1 });
    assert.deepEqual((await rev('/Customers/2001')).body, {
      customer_id: 2001,
      name: 'Fabrikam',
      status: 'ACTIVE',
    });
    const listed = (await admin('/customers')).body as { customer_id: number; status: string }[];
    assert.equal(listed.find((customer) => customer.customer_id === 1001)?.status, 'CLOSED');
    const invalid = await admin('/customers', { method: 'POST', body: [{ customer_id: 'x' }] });
    assert.equal(invalid.status, 400);
  });
});

describe('Rev.io simulator: services', () => {
  it('creates a service that a search by customer or by number2 finds', async () => {
    await start();
    const id = await createService();
    const expected = {
      service_id: id,
      customer_id: 1001,
      provider_id: 3,
      service_type_id: 10,
      number: '882350000000001',
      number2: iccidA,
      package_id: null,
      usage_plan_group_id: null,
      description: null,
      status: 'ACTIVE',
      effective_date: null,
      activated_date: '2024-05-01T00:00:00.000Z',
      disconnected_date: null,
      fields: [
        { field_id: 1, label: 'Cost Center 1', value: null },
        { field_id: 2, label: 'Cost Center 2', value: null },
        { field_id: 3, label: 'Cost Center 3', value: null },
      ],
    };
    const { created_date, ...read } = (await rev(`/Services/${id}`)).body as Record<string, unknown>;
    assert.deepEqual(read, expected);
    assert.ok(!Number.isNaN(Date.parse(String(created_date))));

    for (const search of [
      'search.customer_id=1001',
      `search.number2=${iccidA}`,
      'search.number=882350000000001',
    ]) {
      const found = await rev(`/Services?${search}&search.status=ACTIVE`);
      assert.equal(found.status, 200);
      assert.deepEqual(
        records(found).map((service) => service.service_id),
        [id],
        search,
      );
      assert.equal((found.body as { record_count: number }).record_count, 1);
    }
    for (const search of [
      'search.customer_id=1002',
      `search.number2=${iccidB}`,
      'search.status=DISCONNECTED',
    ]) {
      assert.deepEqual(records(await rev(`/Services?${search}`)), [], search);
    }
    assert.deepEqual(
      statusAndBody(await rev('/Services/99999')),
      revError(404, 'NotFound', 'Service 99999 does not exist'),
    );
  });

  it('does not deduplicate: a second POST for the same line creates a second service', async () => {
    await start();
    const first = await createService();
    const second = await createService();
    assert.notEqual(first, second);
    const found = await rev(`/Services?search.number2=${iccidA}`);
    assert.deepEqual(
      records(found).map((service) => service.service_id),
      [first, second],
    );
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'create_service', status: 201 }), 2);
  });

  it('pages services', async () => {
    await start();
    const ids = [];
    for (const number2 of ['1', '2', '3']) ids.push(await createService({ ...serviceBody, number2 }));
    const page = await rev('/Services?search.customer_id=1001&page=2&page_size=2');
    assert.deepEqual(page.body, {
      records: [(await rev(`/Services/${ids[2]}`)).body],
      record_count: 3,
    });
  });

  it('refuses invalid services with the array envelope and creates nothing', async () => {
    await start();
    const refusals: [object, string][] = [
      [
        { ...serviceBody, customer_id: undefined },
        'customer_id: Invalid input: expected number, received undefined',
      ],
      [
        { ...serviceBody, provider_id: 'three' },
        'provider_id: Invalid input: expected number, received string',
      ],
      [{ ...serviceBody, customer_id: 4242 }, 'Customer 4242 does not exist'],
      [{ ...serviceBody, customer_id: 1009 }, 'Customer 1009 is closed'],
      [{ ...serviceBody, provider_id: 99 }, 'Provider 99 does not exist'],
      [{ ...serviceBody, service_type_id: 77 }, 'Service type 77 does not exist'],
      [{ ...serviceBody, activated_date: 'soon' }, 'activated_date: expected a date such as 2024-05-01Z'],
    ];
    for (const [body, message] of refusals) {
      const response = await rev('/Services', { method: 'POST', body });
      assert.deepEqual(statusAndBody(response), revError(400, 'BadRequest', message));
    }
    const malformed = await rev('/Services', { method: 'POST', body: '{"customer_id":' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(
      (malformed.body as { ok: boolean; error: string }[]).map(({ ok, error }) => ({ ok, error })),
      [{ ok: false, error: 'BadRequest' }],
    );
    assert.deepEqual((await admin('/devices')).body, []);
  });

  it('sets custom fields by JSON-Patch of /fields/<index>/value, and refuses a field the service lacks', async () => {
    await start({ ...unlimited, serviceFields: [{ field_id: 7, label: 'CostCenter' }] });
    const id = await createService();
    const set = await patchService(id, [{ op: 'replace', path: '/fields/0/value', value: 'FLEET-EAST' }]);
    assert.deepEqual(statusAndBody(set), { status: 200, body: { id, ok: true } });
    const read = (await rev(`/Services/${id}`)).body as { fields: unknown[] };
    assert.deepEqual(read.fields, [{ field_id: 7, label: 'CostCenter', value: 'FLEET-EAST' }]);
    const missing = await patchService(id, [{ op: 'replace', path: '/fields/1/value', value: 'X' }]);
    assert.equal(missing.status, 400);
    const tooLong = await patchService(id, [
      { op: 'replace', path: '/fields/0/value', value: 'x'.repeat(256) },
    ]);
    assert.equal(tooLong.status, 400);
    assert.deepEqual(((await rev(`/Services/${id}`)).body as { fields: unknown[] }).fields, read.fields);
  });

  it('disconnects a service by JSON-Patch and refuses what Rev.io does not take', async () => {
    await start();
    const id = await createService();
    const disconnect = await patchService(id, [{ op: 'replace', path: '/status', value: 'DISCONNECTED' }]);
    assert.deepEqual(statusAndBody(disconnect), { status: 200, body: { id, ok: true } });
    const read = (await rev(`/Services/${id}`)).body as Record<string, unknown>;
    assert.equal(read.status, 'DISCONNECTED');
    assert.ok(!Number.isNaN(Date.parse(String(read.disconnected_date))), 'a disconnect is dated');
    assert.deepEqual(
      records(await rev(`/Services?search.number2=${iccidA}&search.status=DISCONNECTED`)).map(
        (service) => service.service_id,
      ),
      [id],
    );

    const moved = await patchService(
      id,
      [
        { op: 'replace', path: '/status', value: 'ACTIVE' },
        { op: 'replace', path: '/customer_id', value: 1002 },
        { op: 'replace', path: '/description', value: 'Truck 7' },
        { op: 'replace', path: '/usage_plan_group_id', value: 12 },
      ],
      { 'content-type': 'application/json' },
    );
    assert.equal(moved.status, 200);
    const after = (await rev(`/Services/${id}`)).body;
    assert.deepEqual(after, {
      ...read,
      status: 'ACTIVE',
      customer_id: 1002,
      description: 'Truck 7',
      usage_plan_group_id: 12,
      disconnected_date: null,
    });

    const refusals: [unknown, string][] = [
      [[{ op: 'remove', path: '/description' }], 'Unsupported operation remove: only replace is allowed'],
      [[{ op: 'replace', path: '/number2', value: iccidB }], 'Unsupported path /number2'],
      [
        [{ op: 'replace', path: '/status', value: 'GONE' }],
        '/status: Invalid option: expected one of "ACTIVE"|"DISCONNECTED"',
      ],
      [
        [
          { op: 'replace', path: '/description', value: 'never applied' },
          { op: 'replace', path: '/customer_id', value: 1009 },
        ],
        'Customer 1009 is closed',
      ],
      [[], 'A JSON-Patch array is expected: the patch has no operation'],
      [
        { status: 'DISCONNECTED' },
        'A JSON-Patch array is expected: Invalid input: expected array, received object',
      ],
    ];
    for (const [operations, message] of refusals) {
      assert.deepEqual(
        statusAndBody(await patchService(id, operations)),
        revError(400, 'BadRequest', message),
      );
    }
    assert.deepEqual((await rev(`/Services/${id}`)).body, after, 'refused patches change nothing');
    const malformed = await rev(`/Services/${id}`, { method: 'PATCH', body: '[{', headers: jsonPatch });
    assert.deepEqual(statusAndBody(malformed), revError(400, 'BadRequest', 'The body is not valid JSON'));
    assert.equal(
      (await patchService(99999, [{ op: 'replace', path: '/status', value: 'ACTIVE' }])).status,
      404,
    );
  });
});

describe('Rev.io simulator: service products', () => {
  it('attaches catalog products, lists and patches them', async () => {
    await start();
    const serviceId = await createService();
    const otherService = await createService({ ...serviceBody, number2: iccidB });
    const lineFee = await rev('/ServiceProduct', {
      method: 'POST',
      body: { service_id: serviceId, product_id: 501, customer_id: 1001, generate_proration: true },
    });
    assert.equal(lineFee.status, 201);
    const lineFeeId = (lineFee.body as { id: number }).id;
    const staticIpBody = {
      service_id: serviceId,
      product_id: 502,
      customer_id: 1001,
      rate: 4.25,
      quantity: 2,
      status: 'PENDING',
    };
    const staticIp = await rev('/ServiceProduct', { method: 'POST', body: staticIpBody });
    const staticIpId = (staticIp.body as { id: number }).id;
    await rev('/ServiceProduct', {
      method: 'POST',
      body: { service_id: otherService, product_id: 503, customer_id: 1001 },
    });

    const listed = await rev(`/ServiceProduct?search.service_id=${serviceId}`);
    assert.deepEqual(listed.body, {
      records: [
        {
          service_product_id: lineFeeId,
          service_id: serviceId,
          product_id: 501,
          customer_id: 1001,
          rate: 2.5,
          quantity: 1,
          status: 'ACTIVE',
        },
        { service_product_id: staticIpId, ...staticIpBody },
      ],
      record_count: 2,
    });
    assert.equal(records(await rev('/ServiceProduct')).length, 3);

    const patched = await rev(`/ServiceProduct/${staticIpId}`, {
      method: 'PATCH',
      headers: jsonPatch,
      body: [
        { op: 'replace', path: '/status', value: 'ACTIVE' },
        { op: 'replace', path: '/rate', value: 6 },
        { op: 'replace', path: '/quantity', value: 1 },
      ],
    });
    assert.deepEqual(statusAndBody(patched), { status: 200, body: { id: staticIpId, ok: true } });
    const [, afterPatch] = records(await rev(`/ServiceProduct?search.service_id=${serviceId}`));
    assert.deepEqual(
      { status: afterPatch.status, rate: afterPatch.rate, quantity: afterPatch.quantity },
      { status: 'ACTIVE', rate: 6, quantity: 1 },
    );
    const badPath = await rev(`/ServiceProduct/${staticIpId}`, {
      method: 'PATCH',
      headers: jsonPatch,
      body: [{ op: 'replace', path: '/product_id', value: 503 }],
    });
    assert.deepEqual(statusAndBody(badPath), revError(400, 'BadRequest', 'Unsupported path /product_id'));
    const missing = await rev('/ServiceProduct/99999', {
      method: 'PATCH',
      headers: jsonPatch,
      body: [{ op: 'replace', path: '/status', value: 'ACTIVE' }],
    });
    assert.deepEqual(
      statusAndBody(missing),
      revError(404, 'NotFound', 'Service product 99999 does not exist'),
    );

    const adminProducts = (await admin(`/service-products?serviceId=${serviceId}`)).body as {
      id: number;
      generateProration: boolean;
    }[];
    assert.deepEqual(
      adminProducts.map(({ id, generateProration }) => ({ id, generateProration })),
      [
        { id: lineFeeId, generateProration: true },
        { id: staticIpId, generateProration: false },
      ],
    );
    assert.equal(((await admin('/service-products')).body as unknown[]).length, 3);
    const [service] = (await admin('/devices')).body as RevioSimService[];
    assert.deepEqual(
      service.products.map((product) => product.id),
      [lineFeeId, staticIpId],
    );
  });

  it('refuses unknown services and products, and services of another customer', async () => {
    await start();
    const serviceId = await createService();
    const refusals: [object, string][] = [
      [{ service_id: 99999, product_id: 501, customer_id: 1001 }, 'Service 99999 does not exist'],
      [{ service_id: serviceId, product_id: 599, customer_id: 1001 }, 'Product 599 does not exist'],
      [
        { service_id: serviceId, product_id: 501, customer_id: 1002 },
        `Service ${serviceId} does not belong to customer 1002`,
      ],
      [
        { service_id: serviceId, customer_id: 1001 },
        'product_id: Invalid input: expected number, received undefined',
      ],
    ];
    for (const [body, message] of refusals) {
      const response = await rev('/ServiceProduct', { method: 'POST', body });
      assert.deepEqual(statusAndBody(response), revError(400, 'BadRequest', message));
    }
    assert.deepEqual((await admin('/service-products')).body, []);
  });
});

describe('Rev.io simulator: throttling', () => {
  it('has the documented default limits', async () => {
    await start({});
    const faults = (await admin('/faults')).body as Record<string, unknown>;
    assert.equal(faults.rateLimitPerSecond, revioDefaultFaults.rateLimitPerSecond);
    assert.equal(faults.maxConcurrent, revioDefaultFaults.maxConcurrent);
  });

  it('answers 429 from the gateway, with Retry-After and the wait in the message', async () => {
    await start();
    for (const [rateLimitPerSecond, seconds] of [
      [1, 1],
      [0.5, 2],
    ]) {
      assert.equal((await admin('/faults', { method: 'PUT', body: { rateLimitPerSecond } })).status, 200);
      assert.equal((await rev('/Customers')).status, 200);
      const throttled = await rev('/Customers');
      assert.deepEqual(statusAndBody(throttled), {
        status: 429,
        body: { statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` },
      });
      assert.equal(throttled.headers.get('retry-after'), String(seconds));
    }
    assert.equal(sim.calls.count({ action: 'list_customers', status: 429 }), 2);
  });

  it('sends the same answer when mounted in another app', async () => {
    sim = createRevioSimulator({ faults: { rateLimitPerSecond: 1 } });
    const app = Fastify();
    await app.register(sim.plugin, { prefix: '/simulators/revio' });
    try {
      const inject = () =>
        app.inject({ method: 'GET', url: '/simulators/revio/v1/Providers', headers: demoAuth });
      assert.equal((await inject()).statusCode, 200);
      const throttled = await inject();
      assert.equal(throttled.statusCode, 429);
      assert.equal(throttled.headers['retry-after'], '1');
      assert.match(throttled.body, /Try again in 1 seconds/);
    } finally {
      await app.close();
    }
  });

  it('answers an outage and injected errors in the array envelope', async () => {
    await start();
    await admin('/faults', { method: 'PUT', body: { outage: true } });
    assert.deepEqual(
      statusAndBody(await rev('/Providers')),
      revError(503, 'ServiceUnavailable', 'Service temporarily unavailable'),
    );
    await admin('/faults', { method: 'PUT', body: { outage: false, errorBurst: 1 } });
    assert.deepEqual(
      statusAndBody(await rev('/Providers')),
      revError(500, 'InternalServerError', 'Internal server error'),
    );
    assert.deepEqual(statusAndBody(await rev('/Nowhere')), revError(404, 'NotFound', 'Resource not found'));
  });
});

describe('Rev.io simulator: call log, seeding and reset', () => {
  it('logs every call with its action and the ICCIDs concerned', async () => {
    await start();
    const serviceId = await createService();
    await rev(`/Services/${serviceId}`);
    await rev(`/Services?search.number2=${iccidA}`);
    await patchService(serviceId, [{ op: 'replace', path: '/description', value: 'x' }]);
    const created = await rev('/ServiceProduct', {
      method: 'POST',
      body: { service_id: serviceId, product_id: 501, customer_id: 1001 },
    });
    const productId = (created.body as { id: number }).id;
    await rev(`/ServiceProduct?search.service_id=${serviceId}`);
    await rev(`/ServiceProduct/${productId}`, {
      method: 'PATCH',
      headers: jsonPatch,
      body: [{ op: 'replace', path: '/quantity', value: 3 }],
    });
    await rev('/Customers/1001');
    await rev('/Services', { method: 'POST', body: { ...serviceBody, customer_id: 1009 } });

    const calls = (await admin(`/calls?iccid=${iccidA}`)).body as CallEntry[];
    assert.deepEqual(
      calls.map(({ method, action, iccids, status }) => ({ method, action, iccids, status })),
      [
        { method: 'POST', action: 'create_service', iccids: [iccidA], status: 201 },
        { method: 'GET', action: 'get_service', iccids: [iccidA], status: 200 },
        { method: 'GET', action: 'list_services', iccids: [iccidA], status: 200 },
        { method: 'PATCH', action: 'update_service', iccids: [iccidA], status: 200 },
        { method: 'POST', action: 'create_service_product', iccids: [iccidA], status: 201 },
        { method: 'GET', action: 'list_service_products', iccids: [iccidA], status: 200 },
        { method: 'PATCH', action: 'update_service_product', iccids: [iccidA], status: 200 },
        { method: 'POST', action: 'create_service', iccids: [iccidA], status: 400 },
      ],
    );
    assert.deepEqual(sim.calls.query({ action: 'get_customer' })[0].iccids, []);
    assert.equal(sim.calls.count(), 9);
  });

  it('seeds services through /_sim/devices and lists them in the admin shape', async () => {
    await start();
    const firstSeed = {
      id: 30001,
      customerId: 1002,
      number: '5550001',
      number2: iccidA,
      serviceTypeId: 10,
      providerId: 2,
    };
    const seeded = await admin('/devices', {
      method: 'POST',
      body: [
        { ...firstSeed, products: [{ productId: 503 }] },
        { customerId: 1009, number2: iccidB, providerId: 1, status: 'DISCONNECTED' },
      ],
    });
    assert.deepEqual(seeded.body, { created: 2, updated: 0 });
    const listed = (await admin('/devices')).body as RevioSimService[];
    const [first, second] = listed.sort((a, b) => a.id - b.id);
    for (const [field, value] of Object.entries(firstSeed)) {
      assert.equal(first[field as keyof RevioSimService], value, field);
    }
    assert.equal(first.status, 'ACTIVE', 'the default status');
    assert.deepEqual(
      first.products.map(({ productId, rate, customerId }) => ({ productId, rate, customerId })),
      [{ productId: 503, rate: 8, customerId: 1002 }],
      "the catalog rate, for the service's customer",
    );
    assert.ok(!Number.isNaN(Date.parse(first.activatedDate ?? '')));
    assert.equal(second.id, 30002, 'new ids continue after a seeded one');
    assert.equal(second.status, 'DISCONNECTED');
    assert.equal(
      ((await rev(`/Services?search.number2=${iccidB}`)).body as { record_count: number }).record_count,
      1,
    );

    const replaced = await admin('/devices', {
      method: 'POST',
      body: [{ id: 30001, customerId: 1003, providerId: 2, number2: iccidA }],
    });
    assert.deepEqual(replaced.body, { created: 0, updated: 1 });
    const read = (await rev('/Services/30001')).body as Record<string, unknown>;
    assert.equal(read.customer_id, 1003);
    assert.equal(records(await rev('/ServiceProduct?search.service_id=30001')).length, 1, 'products kept');

    const invalid = await admin('/devices', {
      method: 'POST',
      body: [{ customerId: 4242, providerId: 99, products: [{ productId: 599 }] }],
    });
    assert.equal(invalid.status, 400);
    const messages = (invalid.body as { error: { details: { message: string }[] } }).error.details.map(
      (detail) => detail.message,
    );
    assert.deepEqual(messages, [
      'Provider 99 does not exist',
      'Customer 4242 does not exist',
      'Product 599 does not exist',
    ]);
  });

  it('reset clears services, products, calls, customers and faults', async () => {
    await start();
    await admin('/customers', { method: 'POST', body: [{ customer_id: 2001, name: 'Fabrikam' }] });
    const serviceId = await createService({ ...serviceBody, customer_id: 2001 });
    await rev('/ServiceProduct', {
      method: 'POST',
      body: { service_id: serviceId, product_id: 501, customer_id: 2001 },
    });
    await admin('/faults', { method: 'PUT', body: { rateLimitPerSecond: 2 } });

    const reset = await admin('/reset', { method: 'POST' });
    assert.equal(reset.status, 204);
    assert.deepEqual((await admin('/devices')).body, []);
    assert.deepEqual((await admin('/service-products')).body, []);
    assert.deepEqual((await admin('/calls')).body, []);
    assert.equal(((await admin('/faults')).body as { rateLimitPerSecond: unknown }).rateLimitPerSecond, null);
    const customers = (await admin('/customers')).body as { customer_id: number }[];
    assert.deepEqual(
      customers.map((customer) => customer.customer_id),
      [1001, 1002, 1003, 1009],
    );
    assert.equal(await createService(), serviceId, 'ids start over');
  });
});
