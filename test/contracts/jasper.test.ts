import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jasperAdapter } from '../../src/carriers/jasper/adapter.ts';
import type { JasperClient } from '../../src/carriers/jasper/client.ts';
import { jasperInventory } from '../../src/carriers/jasper/inventory.ts';
import { createJasperSimulator } from '../../src/carriers/jasper/simulator/simulator.ts';
import { testIccids } from '../support/service.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { jasperContract } from './jasper.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';

describe('Jasper: the client and the simulator against Cisco’s published contract', () => {
  const simulator = createJasperSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let simUrl: string;
  let client: JasperClient;
  const iccids = testIccids(60, '8901402');
  const basic = `Basic ${Buffer.from('demo:demo-api-key').toString('base64')}`;

  before(async () => {
    simUrl = await simulator.listen({ port: 0 });
    proxy = await recordingProxy(simUrl);
    await fetch(`${simUrl}/_sim/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(iccids.map((iccid) => ({ iccid, state: 'ACTIVATED', ratePlan: 'IoT 10MB' }))),
    });
    const adapter = jasperAdapter(testKit());
    const since = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);
    client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl: proxy.url,
        credentials: { username: 'demo', apiKey: 'demo-api-key' },
        settings: { inventorySince: since },
      }),
    ) as JasperClient;
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as published, and the simulator answers each as published', async () => {
    const context = auditedContext();
    assert.equal((await client.getDevice(iccids[0], context)).status, 'ACTIVATED');
    await client.editDevice(iccids[0], { status: 'DEACTIVATED' }, context);
    const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
    await client.editDevice(
      iccids[1],
      { ratePlan: 'IoT 100MB', communicationPlan: 'CP_Data_SMS', effectiveDate: inAWeek },
      context,
    );
    await client.editDevice(iccids[2], { accountCustom1: 'fleet.ops' }, context);
    const trail = await client.auditTrail(iccids[2], 2, context);
    assert.deepEqual(
      trail.map((entry) => [entry.field, entry.value, entry.status]),
      [['accountCustom1', 'fleet.ops', 'Executed']],
    );
    assert.equal((await client.cycleUsage(iccids[2], context)).ctdDataUsage, 0);
    let lines = 0;
    for await (const page of jasperInventory.pages(client, context)) lines += page.length;
    assert.equal(lines, 60);
    const { problems, covered } = verifyExchanges(jasperContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(jasperContract, covered), []);
  });

  it('refuses a field Control Center does not take (10000028), a window over a year, and throttles with 40000029', async () => {
    const from = proxy.exchanges.length;
    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${proxy.url}${path}`, {
        method,
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { errorCode?: string } };
    };
    const unknown = await send('PUT', `/rws/api/v1/devices/${iccids[2]}`, {
      status: 'DEACTIVATED',
      simStatus: 'x',
    });
    assert.deepEqual([unknown.status, unknown.body.errorCode], [400, '10000028']);
    const since = encodeURIComponent('2020-01-01T00:00:00+00:00');
    const window = await send('GET', `/rws/api/v1/devices?modifiedSince=${since}`);
    assert.equal(window.status, 400);
    await fetch(`${simUrl}/_sim/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimitPerSecond: 1 }),
    });
    const answers = [
      await send('GET', `/rws/api/v1/devices/${iccids[3]}`),
      await send('GET', `/rws/api/v1/devices/${iccids[3]}`),
    ];
    assert.equal(answers[1].body.errorCode, '40000029', 'rate limit exceeded');
    const { problems } = verifyExchanges(jasperContract, proxy.exchanges.slice(from), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
