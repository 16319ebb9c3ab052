/**
 * The scale-out measurement (scenario 7): a deployment split by role on PostgreSQL (one
 * `serve --role api`, N `serve --role worker`), `accounts` Jasper accounts each on a simulator of its
 * own that allows `rate` requests/s and `maxConcurrent` at once and answers after `latencyMs`, each
 * account configured with the same limits and given one status-update change of `rowsPerAccount`
 * lines. Rates, overshoot and 429s come from each simulator's call log and stats.
 */
import pg from 'pg';
import { byIccid, submitChange } from '../../test/support/bulk-changes.ts';
import { type SimCall, simAdmin, sleep } from '../../test/support/processes.ts';
import { maxInWindow, scaleOut, type WorkerProcess, workerMetric } from '../../test/support/scale-out.ts';
import { MachineSampler, ProcessSampler } from './proc.ts';
import { log, percentile, round } from './report.ts';
import { seedSimulator, simStats, startBenchStack, startSimulator, waitForFinal } from './stack.ts';

export interface ScaleOutCase {
  workers: number;
  accounts: number;
  rowsPerAccount: number;
  rate: number;
  maxConcurrent: number;
  latencyMs: number;
  capS: number;
}

export interface AccountResult {
  final: boolean;
  status: string | null;
  rowsDone: number;
  requests: number;
  /** Accepted requests ÷ the span from the first to the last, at this account's simulator. */
  achievedRequestsPerSecond: number | null;
  share: number | null;
  /** Most requests in any sliding second, from the call log (arrivals). */
  busiestSecond: number;
  simulator: Record<string, number>;
}

export interface ScaleOutResult extends ScaleOutCase {
  final: boolean;
  totalRows: number;
  rowsDone: number;
  /** Rows final in every change ÷ the time from the first submission to the last completion (or the cap). */
  rowsPerSecond: number | null;
  /** The accounts' limits added up: the most the carriers allow. */
  combinedLimit: number;
  lowestShare: number | null;
  /** Requests in a second beyond an account's limit, the worst account (by the call log or the simulator). */
  overshoot: number;
  /** Requests in flight beyond an account's limit, the worst account. */
  concurrencyOvershoot: number;
  received429: number;
  /** CPU time ÷ wall time of the worker processes together, of the API process, and of the whole machine. */
  coresBusy: { workers: number | null; api: number | null; machine: number | null; machineCores: number };
  /** A `select 1` from the harness once a second during the run: how long PostgreSQL takes to answer. */
  databaseRoundTripMs: { median: number | null; p90: number | null; samples: number };
  /** How long calls waited for their account's limiter, over every worker (their /metrics). */
  limiterWait: { calls: number; meanMs: number | null };
  perAccount: AccountResult[];
  note?: string;
}

/** Pool per process: 5 processes × (pool + guards + listener) stay well within a shared server's 100. */
const poolSize = '5';

export async function measureScaleOut(options: ScaleOutCase): Promise<ScaleOutResult> {
  const { workers, accounts, rowsPerAccount, rate, maxConcurrent, latencyMs } = options;
  const label = `scaleout (${accounts} account${accounts > 1 ? 's' : ''}, ${workers} worker${workers > 1 ? 's' : ''})`;
  const stack = await startBenchStack({ dialect: 'postgres', env: { DATABASE_POOL_SIZE: poolSize } });
  const deployment = scaleOut(stack);
  await deployment.startApi();
  // One after another: a process starting is mostly CPU, and the machine has few cores.
  const simulators: Array<Awaited<ReturnType<typeof startSimulator>>> = [];
  for (let index = 0; index < accounts; index++) {
    simulators.push(await startSimulator({ rateLimitPerSecond: rate, maxConcurrent, latencyMs }));
  }
  const changes: Array<{ iccids: string[]; accountId: string; simulatorUrl: string }> = [];
  for (const [index, simulator] of simulators.entries()) {
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: { requestsPerSecond: rate, maxConcurrent },
      count: rowsPerAccount,
      prefix: `89017${String(10 + index)}`,
      baseUrl: simulator.url,
      seedSimulator: false,
    });
    await seedSimulator(simulator.sim, iccids, 'ACTIVATION_READY');
    changes.push({ iccids, accountId, simulatorUrl: simulator.url });
  }
  for (let index = 0; index < workers; index++) await deployment.startWorker(`w${index + 1}`);
  log(
    `${label}: ${rowsPerAccount} rows each at ${rate}/s, ${maxConcurrent} at once, ${latencyMs} ms latency`,
  );

  const samplers = [...deployment.workers.values()].map(
    (worker) => new ProcessSampler(worker.child.process.pid!, 1000),
  );
  const apiSampler = new ProcessSampler(deployment.api!.process.pid!, 1000);
  const machine = new MachineSampler();
  const roundTrips = sampleRoundTrips(stack.databaseLocation);
  const submittedAt = Date.now();
  const submitted = performance.now();
  const ids = await Promise.all(
    changes.map((change) =>
      submitChange(stack, change.accountId, byIccid(change.iccids), 'status_update', {
        targetStatus: 'active',
      }),
    ),
  );
  const capMs = options.capS * 1000;
  const waits = await Promise.all(
    ids.map((id, index) =>
      waitForFinal(
        stack.api,
        id,
        Math.max(1_000, capMs - (performance.now() - submitted)),
        index === 0 ? (view) => log(`${label}: first account ${JSON.stringify(view.counts)}`) : undefined,
      ),
    ),
  );
  const wallMs = performance.now() - submitted;
  const coresBusy = {
    workers: round(samplers.reduce((sum, sampler) => sum + sampler.cpuMsSinceStart(), 0) / wallMs, 2),
    api: round(apiSampler.cpuMsSinceStart() / wallMs, 2),
    machine: round(machine.busyCores(), 2),
    machineCores: machine.cores,
  };
  for (const sampler of [...samplers, apiSampler]) sampler.stop();
  const roundTripMs = await roundTrips.stop();
  const limiterWait = await limiterWaits([...deployment.workers.values()]);

  const results: AccountResult[] = [];
  for (const [index, change] of changes.entries()) {
    const calls = await simAdmin(change.simulatorUrl).calls();
    const stats = await simStats(change.simulatorUrl);
    const view = waits[index].view;
    results.push(accountResult(calls, stats, rate, view?.counts ?? {}, waits[index].final, view?.status));
  }
  await stack.shutdown();

  const final = waits.every((wait) => wait.final);
  const lastCompleted = Math.max(
    ...waits.map((wait) => (wait.view?.completedAt ? Date.parse(wait.view.completedAt) : 0)),
  );
  const rowsDone = results.reduce((sum, account) => sum + account.rowsDone, 0);
  const spanMs = final ? lastCompleted - submittedAt : wallMs;
  const shares = results.map((account) => account.share).filter((share): share is number => share !== null);
  const result: ScaleOutResult = {
    ...options,
    final,
    totalRows: accounts * rowsPerAccount,
    rowsDone,
    rowsPerSecond: spanMs > 0 ? round((rowsDone / spanMs) * 1000, 1) : null,
    combinedLimit: accounts * rate,
    lowestShare: shares.length === accounts ? Math.min(...shares) : null,
    overshoot: Math.max(
      0,
      ...results.map(
        (account) =>
          Math.max(account.busiestSecond, account.simulator.maxObservedRequestsPerSecond ?? 0) - rate,
      ),
    ),
    concurrencyOvershoot: Math.max(
      0,
      ...results.map((account) => (account.simulator.maxObservedConcurrency ?? 0) - maxConcurrent),
    ),
    received429: results.reduce((sum, account) => sum + (account.simulator.rateLimited ?? 0), 0),
    coresBusy,
    databaseRoundTripMs: {
      median: round(percentile(roundTripMs, 50), 1),
      p90: round(percentile(roundTripMs, 90), 1),
      samples: roundTripMs.length,
    },
    limiterWait,
    perAccount: results,
    ...(final
      ? {}
      : {
          note: `${label}: not final at the ${options.capS} s cap: ${rowsDone} of ${accounts * rowsPerAccount} rows`,
        }),
  };
  log(`${label}: ${JSON.stringify({ ...result, perAccount: undefined })}`);
  return result;
}

/** Times a `select 1` on its own connection once a second until stopped. */
function sampleRoundTrips(url: string): { stop(): Promise<number[]> } {
  const client = new pg.Client({ connectionString: url });
  const times: number[] = [];
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const started = performance.now();
      await client.query('select 1');
      times.push(performance.now() - started);
      await sleep(1000);
    }
    await client.end();
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch((error: Error) => log(`round-trip sampler: ${error.message}`));
      return times;
    },
  };
}

async function limiterWaits(workers: WorkerProcess[]): Promise<{ calls: number; meanMs: number | null }> {
  let calls = 0;
  let seconds = 0;
  for (const worker of workers) {
    calls += (await workerMetric(worker, 'bulkchange_limiter_wait_seconds_count')) ?? 0;
    seconds += (await workerMetric(worker, 'bulkchange_limiter_wait_seconds_sum')) ?? 0;
  }
  return { calls, meanMs: calls > 0 ? round((seconds / calls) * 1000, 1) : null };
}

function accountResult(
  calls: SimCall[],
  stats: Record<string, number>,
  rate: number,
  counts: Record<string, number>,
  final: boolean,
  status: string | undefined,
): AccountResult {
  const accepted = calls
    .filter((call) => call.status !== 429)
    .map((call) => Date.parse(call.at))
    .sort((a, b) => a - b);
  const spanMs = accepted.length > 1 ? accepted.at(-1)! - accepted[0] : null;
  const achieved = spanMs ? ((accepted.length - 1) / spanMs) * 1000 : null;
  return {
    final,
    status: status ?? null,
    rowsDone: (counts.succeeded ?? 0) + (counts.failed ?? 0),
    requests: calls.length,
    achievedRequestsPerSecond: round(achieved, 2),
    share: achieved === null ? null : round(achieved / rate, 3),
    busiestSecond: maxInWindow(calls, 1000).count,
    simulator: stats,
  };
}
