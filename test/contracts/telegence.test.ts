import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { telegenceAdapter } from '../../src/carriers/telegence/adapter.ts';
import { type TelegenceClient, telegenceDate } from '../../src/carriers/telegence/client.ts';
import { activationBody } from '../../src/carriers/telegence/flows/activation.ts';
import { equipmentChange } from '../../src/carriers/telegence/flows/line-changes.ts';
import { createTelegenceSimulator } from '../../src/carriers/telegence/simulator/simulator.ts';
import type { WorkRow } from '../../src/core/flow.ts';
import { testIccids } from '../support/service.ts';
import { recordingProxy, uncovered, verifyExchanges } from './contract.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';
import { telegenceContract } from './telegence.ts';

const ban = '287301234567';
const row = <T>(request: T, fields: Partial<WorkRow<T>> = {}): WorkRow<T> => ({
  id: 'row-1',
  rowNumber: 1,
  deviceId: null,
  iccid: null,
  imei: null,
  msisdn: null,
  eid: null,
  request,
  step: 'activate',
  attempts: 0,
  carrierRequestId: null,
  waitingSince: null,
  result: null,
  ...fields,
});

describe('Telegence: the client and the simulator against the contract production integrations use', () => {
  const simulator = createTelegenceSimulator({
    faults: { rateLimitPerSecond: null, maxConcurrent: null, activationStepMs: 20, ipProvisionMs: 20 },
  });
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let client: TelegenceClient;
  const [sim] = testIccids(1, '8901410');

  before(async () => {
    proxy = await recordingProxy(await simulator.listen({ port: 0 }));
    const adapter = telegenceAdapter(testKit());
    client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl: proxy.url,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
      }),
    ) as TelegenceClient;
  });
  after(async () => {
    await proxy.close();
    await simulator.close();
  });

  it('sends every operation as the contract has it, and the simulator answers each so', async () => {
    const context = auditedContext();
    assert.equal((await client.billingAccount(ban, context)).status.toLowerCase(), 'active');
    const id = await client.activate(
      [
        activationBody(
          row(
            {
              imei: '353911080000004',
              billingAccountNumber: ban,
              ratePlan: 'APX1G5M30',
              zipCode: '75201',
              firstName: 'Jane',
              lastName: 'Doe',
            } as Parameters<typeof activationBody>[0]['request'],
            { iccid: sim },
          ),
        ),
      ],
      context,
    );
    let subscriberNumber: string | null | undefined;
    for (let tries = 0; tries < 100 && !subscriberNumber; tries++) {
      const [element] = await client.activationStatus(id, context);
      if (element.service.status === 'active') subscriberNumber = element.service.subscriberNumber;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(subscriberNumber, 'the line was activated');
    const line = await client.getLine(subscriberNumber, context);
    const today = new Date().toISOString();
    await client.updateLine(
      subscriberNumber,
      {
        effectiveDate: telegenceDate(today),
        serviceCharacteristic: [{ name: 'singleUserCode', value: 'APX5GM30' }],
      },
      context,
    );
    await client.updateLine(
      subscriberNumber,
      equipmentChange(
        row({ newImei: '353911080000012', reasonCode: 'CUST_OWN_EQU' }, { msisdn: subscriberNumber }),
        line,
        { defaultTechnologyType: 'LTE' } as Parameters<typeof equipmentChange>[2],
      ),
      context,
    );
    assert.ok((await client.listLines(1, context)).lines.length >= 1);
    const [ip] = await client.reserveIps('M2M.STATIC', 1, context);
    const batchId = await client.provisionIps(
      {
        pdpName: 'M2M.STATIC',
        billingAccountNumber: ban,
        subscriber: [
          {
            subscriberNumber,
            ipAddressRecord: { ipAddress: ip },
            lteIndicator: 'Y',
            defaultAPNIndicator: 'N',
            accessPointName: 'm2m.static.att.com',
            effectiveDate: telegenceDate(today),
          },
        ],
      },
      context,
    );
    await client.ipStatus({ batchId }, context);
    await client.ipStatus({ subscriberNumber }, context);
    const { problems, covered } = verifyExchanges(telegenceContract, proxy.exchanges);
    assert.deepEqual(problems, []);
    assert.deepEqual(uncovered(telegenceContract, covered), []);
  });

  it('refuses an activation without category and serviceSpecification, in AT&T’s envelope', async () => {
    const from = proxy.exchanges.length;
    const bare = activationBody(
      row(
        {
          imei: '353911080000020',
          billingAccountNumber: ban,
          ratePlan: 'APX1G5M30',
          zipCode: '75201',
          firstName: 'Jane',
          lastName: 'Doe',
        } as Parameters<typeof activationBody>[0]['request'],
        { iccid: testIccids(2, '8901410')[1] },
      ),
    );
    const { category: _category, serviceSpecification: _specification, ...service } = bare.service;
    const refused = await fetch(`${proxy.url}/sp/mobility/serviceactivation/api/v1/activations`, {
      method: 'POST',
      headers: { 'app-id': 'demo-app', 'app-secret': 'demo-app-secret', 'content-type': 'application/json' },
      body: JSON.stringify([{ ...bare, service }]),
    });
    assert.equal(refused.status, 400);
    const { problems } = verifyExchanges(telegenceContract, proxy.exchanges.slice(from), {
      requests: false,
      responses: true,
    });
    assert.deepEqual(problems, []);
  });
});
