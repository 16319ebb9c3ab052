import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { thingSpaceAdapter } from '../src/carriers/thingspace/adapter.ts';
import type { ThingSpaceClient } from '../src/carriers/thingspace/client.ts';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import { CarrierError } from '../src/core/carrier-error.ts';
import { outcomeFromError } from '../src/core/outcomes.ts';
import { auditedContext, clientOf, testAccount, testKit } from './contracts/kit.ts';
import { simAdmin, sleep } from './support/processes.ts';
import { testIccids } from './support/service.ts';
import { startTripwireProxy } from './support/tripwire-proxy.ts';

type Simulator = ReturnType<typeof createThingSpaceSimulator>;

/**
 * The real client (as the registry builds it) of an account on `simulator`, with one line there;
 * through `baseUrl` when given (a proxy in front of the simulator).
 */
async function clientOn(simulator: Simulator, proxied?: (url: string) => Promise<string>) {
  const url = await simulator.listen({ port: 0 });
  const sim = simAdmin(url);
  const baseUrl = proxied ? await proxied(url) : url;
  const [iccid] = testIccids(1, '8914812');
  await sim.seed([{ iccid, state: 'active' }]);
  const adapter = thingSpaceAdapter(testKit());
  const account = testAccount(adapter, {
    baseUrl,
    credentials: {
      clientId: 'demo-client-id',
      clientSecret: 'demo-client-secret',
      username: 'demo-user',
      password: 'demo-password',
    },
    settings: { accountName: simulator.accountName },
  });
  return { client: clientOf(adapter, account) as ThingSpaceClient, sim, iccid };
}

describe('the ThingSpace session when the carrier expires its tokens', () => {
  const simulators: Simulator[] = [];
  const proxies: Array<{ close: () => Promise<void> }> = [];
  after(() => Promise.all([...proxies, ...simulators].map((server) => server.close())));

  it('logs in once per expiry, even when a call refused with the old tokens is answered after the new login', async () => {
    const simulator = createThingSpaceSimulator();
    simulators.push(simulator);
    const { client, sim, iccid } = await clientOn(simulator);
    const context = auditedContext();
    assert.equal((await client.getDevice(iccid, context))?.iccid, iccid);

    // A is held in the gateway with the first tokens; B meets the expiry, logs in and is answered;
    // only then is A refused for its (old) tokens.
    await sim.setFaults({ latencyMs: 2_000 });
    const slow = client.getDevice(iccid, context);
    await sleep(300);
    await sim.setFaults({ latencyMs: 0, expireTokens: true });
    assert.equal((await client.getDevice(iccid, context))?.iccid, iccid);
    assert.equal((await sim.calls('login')).length, 2, 'the first login, then the one after the expiry');
    assert.equal((await slow)?.iccid, iccid, 'the slow call is repeated with the new tokens');

    const lists = (await sim.calls('list_devices')).map((call) => call.status);
    assert.deepEqual(lists.toSorted(), [200, 200, 200, 401, 401], 'B and A each refused once');
    assert.equal((await sim.calls('login')).length, 2, 'no login for the late refusal of the old tokens');
  });

  it('takes a new access token and logs in again when the token expires between the token and the login', async () => {
    // Seen in the chaos run: the expiry struck after the token was handed out, so the login itself was
    // refused (401, the gateway refusing the token, not the password). That failed the change's open rows.
    const simulator = createThingSpaceSimulator();
    simulators.push(simulator);
    let struck = false;
    const { client, sim, iccid } = await clientOn(simulator, async (url) => {
      const proxy = await startTripwireProxy({
        target: url,
        trips: () => false,
        onTrip: () => {},
        before: async (request) => {
          if (struck || !request.url?.endsWith('/session/login')) return;
          struck = true;
          await simAdmin(url).setFaults({ expireTokens: true });
        },
      });
      proxies.push(proxy);
      return proxy.url;
    });
    assert.equal((await client.getDevice(iccid, auditedContext()))?.iccid, iccid);
    assert.deepEqual(
      (await sim.calls('login')).map((call) => call.status),
      [401, 200],
      'the login refused for its expired token, then the login with a new one',
    );
    assert.equal((await sim.calls('token')).length, 2, 'a new access token for the second login');
  });

  it('retries the row, not fails it, when the tokens of a fresh login are refused again', async () => {
    // A second passes each time the carrier looks at its clock, and sessions expire after half a second
    // idle: every session has expired by its first use, so the repeat after the login is refused too.
    // The credentials are fine (the login worked): nothing was applied, the row is retried.
    let now = Date.now();
    const simulator = createThingSpaceSimulator({
      sessionIdleMs: 500,
      clock: () => {
        now += 1_000;
        return now;
      },
    });
    simulators.push(simulator);
    const { client, sim, iccid } = await clientOn(simulator);
    const error = await client.getDevice(iccid, auditedContext()).then(
      () => assert.fail('the carrier refused every call'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof CarrierError, String(error));
    assert.equal(error.kind, 'transient', error.message);
    assert.equal(error.carrierCode, 'SESSION_EXPIRED');
    const outcome = outcomeFromError(error);
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.kind === 'retry' && outcome.ambiguous, false, 'the carrier did not act');
    assert.equal((await sim.calls('login')).length, 2, 'one login, and one more after the expiry');
  });
});
