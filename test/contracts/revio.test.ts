import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RevioClient, revioHttpOptions } from '../../src/billing/revio/client.ts';
import { createRevioSimulator } from '../../src/billing/revio/simulator/simulator.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { auditedContext, testKit } from './kit.ts';
import { revioContract } from './revio.ts';

const credentials = {
  username: 'demo@bulkchange',
  password: 'demo-rev-password',
  subscriptionKey: 'demo-subscription-key',
};

describe('Rev.io: the client and the simulator against Rev.io’s published contract', () => {
  const simulator = createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let client: RevioClient;

  before(async () => {
    proxy = await recordingProxy(await simulator.listen({ port: 0 }));
    const endpoint = {
      id: 'billing:contract',
      baseUrl: proxy.url,
      limits: {
        requestsPerSecond: null,
        maxConcurrent: 4,
        batchSize: 1,
        retryBudget: 3,
        requestTimeoutMs: 10_000,
        checkIntervalMs: 1_000,
        maxWaitMs: 60_000,
      },
    };
    client = new RevioClient(testKit().http(endpoint, revioHttpOptions(credentials)), {
      providerIds: { jasper: 3 },
    });
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as published, the subscription key on each, and the simulator answers as published', async () => {
    const context = auditedContext();
    assert.ok((await client.customers(1, context)).records.length > 0);
    assert.deepEqual(
      await client.findServices({ number2: '89011703278101234567', status: 'ACTIVE' }, context),
      [],
    );
    const serviceId = await client.createService(
      {
        customer_id: 1001,
        provider_id: 3,
        service_type_id: 10,
        number: '882350000000001',
        number2: '89011703278101234567',
        activated_date: `${new Date().toISOString().slice(0, 10)}Z`,
      },
      context,
    );
    await client.createServiceProduct(
      {
        service_id: serviceId,
        product_id: 501,
        customer_id: 1001,
        rate: 9.99,
        quantity: 1,
        status: 'ACTIVE',
      },
      context,
    );
    assert.equal((await client.serviceProducts(serviceId, context)).length, 1);
    const service = await client.getService(serviceId, context);
    assert.deepEqual(
      service.fields.map((field) => [field.label, field.value ?? null]),
      [
        ['Cost Center 1', null],
        ['Cost Center 2', null],
        ['Cost Center 3', null],
      ],
    );
    await client.setServiceFields(serviceId, [{ index: 1, value: 'FLEET-EAST' }], context);
    assert.equal((await client.getService(serviceId, context)).fields[1].value, 'FLEET-EAST');
    await client.disconnectService(serviceId, context);
    const { problems, covered } = verifyExchanges(revioContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(revioContract, covered), []);
  });

  it('refuses a call without the subscription key at the gateway, in the gateway’s envelope', async () => {
    const from = proxy.exchanges.length;
    const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const refused = await fetch(`${proxy.url}/v1/Customers`, { headers: { authorization: basic } });
    assert.equal(refused.status, 401);
    const body = (await refused.json()) as { statusCode: number; message: string };
    assert.match(body.message, /subscription key/);
    const { problems } = verifyExchanges(revioContract, proxy.exchanges.slice(from), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
