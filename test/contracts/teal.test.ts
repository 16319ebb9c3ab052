import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tealAdapter } from '../../src/carriers/teal/adapter.ts';
import { isOperationFinished, type TealClient } from '../../src/carriers/teal/client.ts';
import { createTealSimulator, tealPlans } from '../../src/carriers/teal/simulator/simulator.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';
import { tealContract } from './teal.ts';

const eids = ['89049032000001000000000000000001', '89049032000001000000000000000002'];

describe('Teal: the client and the simulator against the contract AMOP used', () => {
  const simulator = createTealSimulator({
    faults: { rateLimitPerSecond: null, maxConcurrent: null, operationMs: 20 },
  });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let client: TealClient;

  before(async () => {
    const simUrl = await simulator.listen({ port: 0 });
    proxy = await recordingProxy(simUrl);
    await fetch(`${simUrl}/_sim/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        eids.map((eid, index) => ({ eid, iccid: `8944500000000000000${index}`, state: 'online' })),
      ),
    });
    const usage = await fetch(`${simUrl}/_sim/data-consumption`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ eid: eids[0], date: new Date().toISOString().slice(0, 10), bytes: 4096 }]),
    });
    assert.equal(usage.status, 200, await usage.text());
    const adapter = tealAdapter(testKit());
    client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl: proxy.url,
        credentials: { apiKey: 'demo-teal-key', apiSecret: 'demo-teal-secret' },
      }),
    ) as TealClient;
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as AMOP did, and the simulator answers each so (its links through the same host)', async () => {
    const context = auditedContext();
    assert.equal((await client.listEsims(0, context)).entries.length, 2);
    const usage = await client.dataConsumption(
      { dataType: 'DAILY', from: Date.now() - 86_400_000, to: Date.now() },
      0,
      context,
    );
    assert.deepEqual(
      usage.entries.map((entry) => [entry.eid, entry.bytes]),
      [[eids[0], 4096]],
    );
    const links = [
      await client.write({ action: 'disable', entries: [eids[0]] }, 'bc-contract-1', context),
      await client.write({ action: 'enable', entries: [eids[1]] }, 'bc-contract-2', context),
      await client.write(
        { action: 'assign_plan', entries: [{ eid: eids[1], planUuid: tealPlans[1].uuid }] },
        'bc-contract-3',
        context,
      ),
    ];
    for (const link of links) {
      assert.ok(link.startsWith(proxy.url), 'the result is read through the account’s host');
      let done = false;
      for (let tries = 0; tries < 100 && !done; tries++) {
        done = isOperationFinished(await client.operation(link, context));
        if (!done) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(done);
    }
    const { problems, covered } = verifyExchanges(tealContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(tealContract, covered), []);
  });

  it('refuses wrong credentials and more than 100 entries, in its envelope', async () => {
    const from = proxy.exchanges.length;
    const wrong = await fetch(`${proxy.url}/api/v1/esims?requestId=x&offset=0&limit=10`, {
      headers: { apikey: 'demo-teal-key', apisecret: 'nope' },
    });
    assert.equal(wrong.status, 401);
    const tooMany = await fetch(`${proxy.url}/api/v1/esims/enable?requestId=big`, {
      method: 'POST',
      headers: { apikey: 'demo-teal-key', apisecret: 'demo-teal-secret', 'content-type': 'application/json' },
      body: JSON.stringify({
        entries: Array.from(
          { length: 101 },
          (_, i) => `8904903200000100000000000000${String(i).padStart(4, '0')}`,
        ),
      }),
    });
    assert.equal(tooMany.status, 400);
    const { problems } = verifyExchanges(tealContract, proxy.exchanges.slice(from), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
