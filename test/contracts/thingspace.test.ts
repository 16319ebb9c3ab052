import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { thingSpaceAdapter } from '../../src/carriers/thingspace/adapter.ts';
import type { ThingSpaceClient } from '../../src/carriers/thingspace/client.ts';
import { identifierChange } from '../../src/carriers/thingspace/flows.ts';
import { createThingSpaceSimulator } from '../../src/carriers/thingspace/simulator/simulator.ts';
import { testIccids } from '../support/service.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';
import { thingSpaceContract } from './thingspace.ts';

const account = '0000123456-00001';

describe('ThingSpace: the client and the simulator against Verizon’s published contract', () => {
  // No listener is there for callbacks: results are read back, as without them.
  const simulator = createThingSpaceSimulator({
    actionDelayMs: 20,
    activationDelayMs: 40,
    faults: { callbacks: false },
  });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let simUrl: string;
  let client: ThingSpaceClient;
  const iccids = testIccids(620, '8914811');
  const imeis = ['990013907835573', '990013907835581'];

  before(async () => {
    simUrl = await simulator.listen({ port: 0 });
    proxy = await recordingProxy(simUrl);
    const seeded = await fetch(`${simUrl}/_sim/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        ...iccids.slice(0, 600).map((iccid) => ({ iccid, state: 'active' })),
        { iccid: iccids[600], imei: imeis[0], state: 'active' },
      ]),
    });
    assert.equal(seeded.status, 200);
    const adapter = thingSpaceAdapter(testKit());
    client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl: proxy.url,
        credentials: {
          clientId: 'demo-client-id',
          clientSecret: 'demo-client-secret',
          username: 'demo-user',
          password: 'demo-password',
          callbackPassword: 'callback-secret',
        },
        settings: {
          accountName: account,
          callbackUrl: 'http://127.0.0.1:9001/callbacks/thingspace/x',
          callbackUsername: 'bulkchange',
        },
      }),
    ) as ThingSpaceClient;
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as published, and the simulator answers each as published', async () => {
    const context = auditedContext();
    const line = (iccid: string, imei?: string) => [
      { kind: 'iccid', id: iccid },
      ...(imei ? [{ kind: 'imei', id: imei }] : []),
    ];
    assert.equal(await client.ensureCallback(context), true);
    const added = await client.add([line(iccids[610]), line(iccids[611])], context);
    assert.equal(added[0].response, 'Success');
    const activation = await client.activate(
      {
        devices: [line(iccids[610]), line(iccids[611])],
        servicePlan: 'M2M4G1GB',
        mdnZipCode: '98801',
        primaryPlaceOfUse: {
          customerName: { firstName: 'Zaphod', lastName: 'Beeblebrox' },
          address: {
            addressLine1: '1600 Pennsylvania Ave NW',
            city: 'Washington',
            state: 'DC',
            zip: '20500',
            country: 'USA',
          },
        },
      },
      context,
    );
    await client.act('suspend', [line(iccids[0])], {}, context);
    await client.act('restore', [line(iccids[1])], {}, context);
    await client.act('deactivate', [line(iccids[2])], { reasonCode: 'FF' }, context);
    await client.changePlan([line(iccids[3])], 'M2M4G5GB', context);
    // Both swaps as the flow builds them: a SIM swap, and a device swap named by IMEI.
    await client.changeIdentifier(
      identifierChange({ iccid: iccids[4], imei: null, request: { newIccid: iccids[615] } }),
      context,
    );
    await client.changeIdentifier(
      identifierChange({ iccid: iccids[600], imei: imeis[0], request: { newImei: imeis[1] } }),
      context,
    );
    await simulator.settled();
    const status = await client.requestStatus(activation, context);
    assert.deepEqual(
      status.subRequests?.map((sub) => sub.status),
      ['Success', 'Success'],
    );
    assert.equal((await client.getDevice(iccids[610], context))?.state, 'active');
    // The account's lines, page by page: 202 while more follow, then 200.
    let after: number | undefined;
    let pages = 0;
    do {
      const page = await client.listDevices(after, context);
      after = page.next;
      pages += 1;
    } while (after !== undefined);
    assert.equal(pages, 2);
    // Filtered (how many lines' results are read back at once): the two just activated, and only they.
    const onPlan = await client.listDevices(undefined, context, {
      currentState: 'active',
      servicePlan: 'M2M4G1GB',
    });
    assert.deepEqual(onPlan.lines.map((line) => line.iccid).sort(), [iccids[610], iccids[611]]);

    const { problems, covered } = verifyExchanges(thingSpaceContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(thingSpaceContract, covered), [], 'every operation the client sends');
    assert.ok(
      proxy.exchanges.some((exchange) => exchange.status === 202),
      'a 202 page was checked',
    );
  });

  it('refuses what Verizon refuses, each answer in Verizon’s envelopes', async () => {
    const before = proxy.exchanges.length;
    const context = auditedContext();
    await client.getDevice(iccids[0], context); // a fresh session for the raw calls below
    const token = (await (
      await fetch(`${simUrl}/api/ts/v1/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('demo-client-id:demo-client-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      })
    ).json()) as { access_token: string };
    const session = (await (
      await fetch(`${simUrl}/api/m2m/v1/session/login`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo-user', password: 'demo-password' }),
      })
    ).json()) as { sessionToken: string };
    const headers = {
      authorization: `Bearer ${token.access_token}`,
      'vz-m2m-token': session.sessionToken,
      'content-type': 'application/json',
    };
    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${proxy.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const swap = {
      deviceIds: [{ kind: 'iccid', id: iccids[5] }],
      deviceIdsTo: [{ kind: 'iccid', id: iccids[616] }],
    };
    const oldPath = await send('PUT', '/api/m2m/v1/devices/actions/deviceidentifier', swap);
    assert.equal(oldPath.status, 404, 'the path Verizon does not publish is not there');
    const noOption = await send('PUT', '/api/m2m/v1/devices/4G/actions/deviceId', swap);
    assert.equal(noOption.status, 400, 'change4gOption is required');
    const reason = await send('POST', '/api/m2m/v1/devices/actions/deactivate', {
      accountName: account,
      devices: [{ deviceIds: [{ kind: 'iccid', id: iccids[6] }] }],
      reasonCode: 'XX',
    });
    assert.equal(reason.status, 400, 'FF is the only reason');
    const port = await send('POST', `/api/m2m/v1/callbacks/${account}`, {
      name: 'CarrierService',
      url: 'https://bulkchange.example.com:8443/cb',
    });
    assert.equal(port.status, 400, 'a port ThingSpace does not call');
    const suspended = await send('POST', '/api/m2m/v1/devices/actions/suspend', {
      devices: [
        { deviceIds: [{ kind: 'iccid', id: iccids[7] }] },
        { deviceIds: [{ kind: 'iccid', id: iccids[8] }] },
      ],
    });
    const v1 = await send(
      'GET',
      `/api/m2m/v1/accounts/${account}/requests/${suspended.body.requestId}/status`,
    );
    assert.deepEqual(Object.keys(v1.body).sort(), ['requestId', 'status'], 'v1: no device listed');
    const { problems } = verifyExchanges(thingSpaceContract, proxy.exchanges.slice(before), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
