import { carrierAccountFixture, thingSpaceAccountFixture } from '../support/carrier-accounts.ts';
import { type E2eStack, insertInventory, startE2eStack } from '../support/e2e-stack.ts';
import {
  type Api,
  apiClient,
  type Child,
  type HttpResponse,
  simAdmin,
  startCli,
} from '../support/processes.ts';
import { keepOnCpu, scaleOut } from '../support/scale-out.ts';
import { testIccids } from '../support/service.ts';

/** The call limits of the two accounts: what the simulators' call logs are held to. */
export const jasperLimits = { requestsPerSecond: 8, maxConcurrent: 2, requestTimeoutMs: 2_000 };
export const thingSpaceLimits = {
  requestsPerSecond: 5,
  maxConcurrent: 2,
  batchSize: 10,
  requestTimeoutMs: 2_000,
  checkIntervalMs: 1_000,
  maxWaitMs: 600_000,
};

/** Our API's answers during the run: every 5xx is kept, and the requests that found no server. */
export interface ApiTally {
  requests: number;
  serverErrors: Array<{ method: string; path: string; status: number; body: string }>;
  unreachable: number;
}

/**
 * The real processes the chaos runs against: a Jasper and a ThingSpace simulator (`bulkchange simulate`),
 * and the engine. On SQLite one `serve` process is the API and the worker, so killing the worker kills
 * the API too; on PostgreSQL an API process stays up beside two worker processes (README "Scaling").
 */
export interface ChaosDeployment {
  stack: E2eStack;
  /** The admin API, counting its answers into `tally`. */
  api: Api;
  tally: ApiTally;
  jasper: { accountId: string; sim: ReturnType<typeof simAdmin> };
  thingSpace: { accountId: string; sim: ReturnType<typeof simAdmin> };
  /** The processes that run the engine, by name. */
  engines: string[];
  running(name: string): boolean;
  /** `kill -9`, no goodbye. */
  kill(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** Fresh lines on both carriers (in the simulators and the inventory), `prefix` making them unique. */
  lines(
    prefix: string,
    jasperCount: number,
    thingSpaceCount: number,
  ): Promise<{ jasper: string[]; thingSpace: string[] }>;
  close(): Promise<void>;
}

export async function startChaosDeployment(dialect: 'sqlite' | 'postgres'): Promise<ChaosDeployment> {
  // Processes start slowly on a loaded machine, and a restart that gives up would end the run.
  const stack = await startE2eStack({ dialect, env: { WORKER_CONCURRENCY: '2' }, startTimeoutMs: 90_000 });
  try {
    const thingSpaceSimulator: Child = startCli(['simulate', 'thingspace', '--port', '0']);
    const [, thingSpaceUrl] = await thingSpaceSimulator.waitForOutput(
      /listening at (http:\/\/\S+)/,
      stack.startTimeoutMs,
    );
    // The simulators are the instruments the limits are measured with: on a machine this loaded they
    // would stamp arrivals late and make correctly spaced requests look bunched (keepOnCpu says why).
    keepOnCpu(stack.simulator);
    keepOnCpu(thingSpaceSimulator);
    const thingSpaceSim = simAdmin(thingSpaceUrl);
    await thingSpaceSim.setFaults({ callbacks: true, rateLimitPerSecond: null, maxConcurrent: null });

    const engines = dialect === 'postgres' ? ['worker-1', 'worker-2'] : ['server'];
    const split = dialect === 'postgres' ? scaleOut(stack) : undefined;
    if (split) {
      await split.startApi();
      await Promise.all(engines.map((name) => split.startWorker(name)));
    } else await stack.startServer();

    const tally: ApiTally = { requests: 0, serverErrors: [], unreachable: 0 };
    const raw = apiClient(stack.url, stack.adminKey);
    const api = (async (method: string, pathname: string, options = {}) => {
      tally.requests += 1;
      let answer: HttpResponse<unknown>;
      try {
        answer = await raw(method, pathname, options);
      } catch (error) {
        tally.unreachable += 1;
        throw error;
      }
      if (answer.status >= 500)
        tally.serverErrors.push({
          method,
          path: pathname,
          status: answer.status,
          body: answer.text.slice(0, 500),
        });
      return answer;
    }) as Api;

    const jasperAccountId = await carrierAccountFixture(stack, {
      name: 'jasper chaos',
      carrier: 'jasper',
      baseUrl: stack.simulatorUrl,
      credentials: { username: 'demo', apiKey: 'demo-api-key' },
      limits: jasperLimits,
    });
    const thingSpaceAccountId = await thingSpaceAccountFixture(stack, {
      name: 'thingspace chaos',
      baseUrl: thingSpaceUrl,
      accountName: '0000123456-00001',
      callbackPassword: 'chaos-callback-secret',
      limits: thingSpaceLimits,
    });

    return {
      stack,
      api,
      tally,
      jasper: { accountId: jasperAccountId, sim: stack.sim },
      thingSpace: { accountId: thingSpaceAccountId, sim: thingSpaceSim },
      engines,
      running: (name) => (split ? split.workers.get(name)?.child.running : stack.server?.running) ?? false,
      async kill(name) {
        if (split) await split.killWorker(name);
        else await stack.server?.kill('SIGKILL');
      },
      async start(name) {
        if (split) await split.startWorker(name);
        else await stack.startServer();
      },
      async lines(prefix, jasperCount, thingSpaceCount) {
        const jasper = testIccids(jasperCount, `${prefix}1`);
        const thingSpace = testIccids(thingSpaceCount, `${prefix}2`);
        await stack.sim.seed(
          jasper.map((iccid) => ({
            iccid,
            state: 'ACTIVATION_READY',
            ratePlan: 'IoT Basic 1MB',
            communicationPlan: 'CP_Basic_ON',
          })),
        );
        await insertInventory(stack.databaseLocation, {
          tenant: 'acme',
          accountId: jasperAccountId,
          iccids: jasper,
          state: 'ACTIVATION_READY',
        });
        await thingSpaceSim.seed(thingSpace.map((iccid) => ({ iccid, state: 'pre-active' })));
        await insertInventory(stack.databaseLocation, {
          tenant: 'acme',
          accountId: thingSpaceAccountId,
          iccids: thingSpace,
          state: 'pre-active',
          status: 'inventory',
        });
        return { jasper, thingSpace };
      },
      close: () => stack.close(),
    };
  } catch (error) {
    await stack.close();
    throw error;
  }
}
