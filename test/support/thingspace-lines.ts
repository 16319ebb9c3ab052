import { createThingSpaceSimulator } from '../../src/carriers/thingspace/simulator/simulator.ts';
import { normaliseThingSpaceState } from '../../src/carriers/thingspace/statuses.ts';
import { thingSpaceAccountFixture } from './carrier-accounts.ts';
import { insertLines } from './inventory.ts';
import { simAdmin } from './processes.ts';
import { type TestService, testIccids } from './service.ts';

/**
 * A ThingSpace simulator, an account wired to it (callbacks to the service) and `count` lines under
 * `prefix` in `state` in both (none in the simulator when `state` is null: lines still to add).
 */
export async function thingSpaceLines(
  test: TestService,
  options: {
    prefix: string;
    count: number;
    state: string | null;
    simulator?: Parameters<typeof createThingSpaceSimulator>[0];
    limits?: Record<string, unknown>;
  },
) {
  const simulator = createThingSpaceSimulator({
    activationDelayMs: 300,
    actionDelayMs: 100,
    ...options.simulator,
  });
  const simulatorUrl = await test.serveSimulator(simulator);
  const accountId = await thingSpaceAccountFixture(test, {
    baseUrl: simulatorUrl,
    accountName: simulator.accountName,
    callbackPassword: 'callback-secret-1',
    limits: {
      requestsPerSecond: null,
      maxConcurrent: 4,
      checkIntervalMs: 250,
      maxWaitMs: 20_000,
      ...options.limits,
    },
  });
  const iccids = testIccids(options.count, options.prefix);
  const { state } = options;
  const sim = simAdmin(simulatorUrl);
  if (state) await sim.seed(iccids.map((iccid) => ({ iccid, state })));
  await insertLines(
    test,
    accountId,
    iccids.map((iccid) => ({
      iccid,
      status: state ? normaliseThingSpaceState(state) : 'inventory',
      carrierStatus: state,
    })),
  );
  return { simulator, simulatorUrl, accountId, iccids, ...sim };
}
