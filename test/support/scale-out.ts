import { setPriority } from 'node:os';
import type { E2eStack } from './e2e-stack.ts';
import { type Child, freePort, type SimCall, startCli, waitForHealthy, waitUntil } from './processes.ts';

/**
 * A deployment split by role on PostgreSQL (README "Scaling"): one `serve --role api` process on the
 * stack's port and any number of `serve --role worker` processes, each serving its own /healthz,
 * /readyz and /metrics. The tests that need it skip without TEST_DATABASE_URL.
 */
export const postgresOnly = process.env.TEST_DATABASE_URL
  ? false
  : 'needs PostgreSQL: set TEST_DATABASE_URL to run the scale-out tests';

export interface WorkerProcess {
  name: string;
  child: Child;
  /** Its health and metrics server. */
  url: string;
}

export interface ScaleOut {
  api: Child | undefined;
  workers: Map<string, WorkerProcess>;
  startApi(): Promise<Child>;
  /** Starts (or starts again, on a new port) the worker called `name`, and waits until it is ready. */
  startWorker(name: string, env?: Record<string, string>): Promise<WorkerProcess>;
  /** `kill -9`: no goodbye, no hand-back of jobs, slots or turns. */
  killWorker(name: string): Promise<void>;
}

export function scaleOut(stack: E2eStack, env: Record<string, string> = {}): ScaleOut {
  const workers = new Map<string, WorkerProcess>();
  const deployment: ScaleOut = {
    api: undefined,
    workers,
    async startApi() {
      const api = startCli(['serve', '--role', 'api'], { ...stack.env, ...env });
      deployment.api = api;
      await waitForHealthy(stack.url, api, stack.startTimeoutMs);
      return api;
    },
    async startWorker(name, extra = {}) {
      const port = await freePort();
      const child = startCli(['serve', '--role', 'worker'], {
        ...stack.env,
        ...env,
        ...extra,
        WORKER_HTTP_PORT: String(port),
      });
      const url = `http://127.0.0.1:${port}`;
      await waitForHealthy(url, child, stack.startTimeoutMs);
      await waitUntil(
        `${name} ready`,
        async () => {
          const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
          return response.ok ? true : undefined;
        },
        stack.startTimeoutMs,
      );
      const worker = { name, child, url };
      workers.set(name, worker);
      return worker;
    },
    async killWorker(name) {
      const worker = workers.get(name);
      if (!worker) throw new Error(`no worker ${name}`);
      await worker.child.kill('SIGKILL');
      workers.delete(name);
    },
  };
  return deployment;
}

/**
 * The simulator is the measuring instrument: on a busy machine a simulator kept off the CPU for a
 * moment stamps an arrival late, and two requests spaced right look closer than they were (seen: one
 * stamped 176 ms late, the next, started 206 ms after it, on time; docs/performance.md). Its scheduling
 * priority is raised where the test may (root, or CAP_SYS_NICE); elsewhere it runs as it is.
 */
export function keepOnCpu(child: Child): void {
  try {
    setPriority(child.process.pid!, -20);
  } catch {
    // Not allowed here: the simulator keeps the default priority.
  }
}

/** A worker's metric, summed over its label sets (`undefined` when absent). */
export async function workerMetric(
  worker: WorkerProcess,
  name: string,
  labels = '',
): Promise<number | undefined> {
  const text = await (await fetch(`${worker.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Most calls inside any window of `windowMs` (half-open, as the simulator counts), by arrival. */
export function maxInWindow(calls: SimCall[], windowMs: number): { count: number; at: string | null } {
  const times = calls.map((call) => Date.parse(call.at)).sort((a, b) => a - b);
  let best = { count: 0, at: null as string | null };
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, at: new Date(times[lo]).toISOString() };
  }
  return best;
}

/** The simulator's own count: most accepted requests in a sliding second, and in flight at once. */
export async function simStats(simulatorUrl: string) {
  const response = await fetch(`${simulatorUrl}/_sim/stats`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as {
    requests: number;
    rateLimited: number;
    errorsInjected: number;
    maxObservedConcurrency: number;
    maxObservedRequestsPerSecond: number;
  };
}
