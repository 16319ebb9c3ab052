import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pondAdapter } from '../../src/carriers/pond/adapter.ts';
import type { PondClient } from '../../src/carriers/pond/client.ts';
import { createPondSimulator } from '../../src/carriers/pond/simulator/simulator.ts';
import { testIccids } from '../support/service.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';
import { pondContract } from './pond.ts';

describe('POND: the client and the simulator against the contract AMOP used', () => {
  const simulator = createPondSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let client: PondClient;
  const [iccid] = testIccids(1, '8901420');

  before(async () => {
    const simUrl = await simulator.listen({ port: 0 });
    proxy = await recordingProxy(simUrl);
    await fetch(`${simUrl}/_sim/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ iccid, packageTypeId: 'PT-1GB' }]),
    });
    const adapter = pondAdapter(testKit());
    client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl: proxy.url,
        credentials: { apiKey: 'demo-pond-key' },
        settings: { distributorId: 'demo-distributor' },
      }),
    ) as PondClient;
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as AMOP did, and the simulator answers each so', async () => {
    const context = auditedContext();
    assert.equal((await client.listDevices(0, context)).items.length, 1);
    await client.setDeviceStatus(iccid, false, context);
    await client.getDeviceStatus(iccid, context);
    const [old] = await client.listPackages(iccid, context);
    const added = await client.addPackage(iccid, 'PT-5GB', context);
    await client.setPackageStatus(added.packageId, 'ACTIVE', context);
    await client.setPackageStatus(old.packageId, 'TERMINATED', context);
    const { problems, covered } = verifyExchanges(pondContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(pondContract, covered), []);
  });

  it('refuses a wrong key and an unknown package type, in its envelope', async () => {
    const from = proxy.exchanges.length;
    const wrongKey = await fetch(`${proxy.url}/demo-distributor/devices?offset=0&count=10`, {
      headers: { 'x-api-key': 'nope' },
    });
    assert.equal(wrongKey.status, 401);
    const unknownType = await fetch(`${proxy.url}/demo-distributor/devices/${iccid}/packages`, {
      method: 'POST',
      headers: { 'x-api-key': 'demo-pond-key', 'content-type': 'application/json' },
      body: JSON.stringify({ packageTypeId: 'PT-NOPE' }),
    });
    assert.ok(unknownType.status >= 400 && unknownType.status < 500);
    const { problems } = verifyExchanges(pondContract, proxy.exchanges.slice(from), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
