import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { thingSpaceAdapter } from '../src/carriers/thingspace/adapter.ts';
import type { ThingSpaceClient } from '../src/carriers/thingspace/client.ts';
import { thingSpaceStatusUpdate } from '../src/carriers/thingspace/flows.ts';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import type { CarrierAccount, StepContext, WorkRow } from '../src/core/flow.ts';
import { clientOf, testAccount, testKit } from './contracts/kit.ts';
import { simAdmin } from './support/processes.ts';
import { testIccids } from './support/service.ts';

/**
 * Reading many lines back after a crash (rows in flight, their request id never saved): one list of
 * the account's lines in the target state, not one read per line.
 */
describe('ThingSpace: many lines read back at once', () => {
  const simulator = createThingSpaceSimulator({ faults: { callbacks: false } });
  let sim: ReturnType<typeof simAdmin>;
  let account: CarrierAccount;
  let client: ThingSpaceClient;

  before(async () => {
    const url = await simulator.listen({ port: 0 });
    sim = simAdmin(url);
    const adapter = thingSpaceAdapter(testKit());
    account = testAccount(adapter, {
      baseUrl: url,
      credentials: {
        clientId: 'demo-client-id',
        clientSecret: 'demo-client-secret',
        username: 'demo-user',
        password: 'demo-password',
      },
      settings: { accountName: simulator.accountName },
    });
    client = clientOf(adapter, account) as ThingSpaceClient;
  });
  after(() => simulator.close());

  /** Rows of a suspension found in flight after a crash: the request may or may not have reached ThingSpace. */
  const inFlight = (iccids: string[]): WorkRow<{ targetStatus: 'suspended' }>[] =>
    iccids.map((iccid, index) => ({
      id: `row-${iccid}`,
      rowNumber: index + 1,
      deviceId: null,
      iccid,
      imei: null,
      msisdn: null,
      eid: null,
      request: { targetStatus: 'suspended' },
      step: 'suspend',
      attempts: 1,
      carrierRequestId: null,
      waitingSince: null,
      result: null,
    }));

  const stepContext = (): StepContext<ThingSpaceClient> => ({
    client,
    account,
    auditFor: () => () => {},
    recordRequest: async () => {},
    carrierResults: async () => new Map(),
    signal: AbortSignal.timeout(60_000),
  });

  const reconcile = (rows: WorkRow<{ targetStatus: 'suspended' }>[]) =>
    thingSpaceStatusUpdate.steps.suspend.reconcile!(rows, stepContext());

  it('reads 400 lines with one list page: the suspended confirmed, the others left to wait', async () => {
    const iccids = testIccids(400, '8914822');
    await sim.seed(iccids.map((iccid, index) => ({ iccid, state: index % 40 === 0 ? 'active' : 'suspend' })));
    const before = (await sim.calls('list_devices')).length;
    const outcomes = await reconcile(inFlight(iccids));
    assert.equal((await sim.calls('list_devices')).length - before, 1, 'one list page, not 400 reads');
    const succeeded = outcomes.filter((outcome) => outcome.kind === 'succeeded');
    assert.equal(succeeded.length, 390);
    const waiting = outcomes.filter((outcome) => outcome.kind === 'next');
    assert.equal(waiting.length, 10, 'the lines that have not moved wait, then are sent again');
    assert.ok(
      waiting.every((outcome) => outcome.kind === 'next' && typeof outcome.result?.unsentSince === 'number'),
    );
  });

  it('stops a list that would cost more than reading the lines, and reads the rest one by one', async () => {
    // 2,000 suspended lines on the account, the 25 rows' lines the last listed: a list would take four
    // pages to reach them; its budget is three, and the 25 are then read one by one.
    const others = testIccids(2_000, '8914833');
    const iccids = testIccids(25, '8914844');
    await sim.seed([...others, ...iccids].map((iccid) => ({ iccid, state: 'suspend' })));
    const before = (await sim.calls('list_devices')).length;
    const outcomes = await reconcile(inFlight(iccids));
    assert.ok(outcomes.every((outcome) => outcome.kind === 'succeeded'));
    assert.equal(
      (await sim.calls('list_devices')).length - before,
      3 + 25,
      'never much more than a read per line',
    );
  });
});
