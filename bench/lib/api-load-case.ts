/**
 * The carrier rate of a worker while the API is busy (issue 13, "the worker's carrier rate unaffected
 * by API load"): Jasper rows against a simulator at 50 requests/s with 100 ms latency, the account at
 * 50/s and 8 in flight, with and without clients (8 by default) reading large pages from the API meanwhile. Measured
 * at the simulator: accepted PUTs ÷ the span from the first to the last.
 *
 * Standalone so that it can measure another checkout of the code too (`--root`, e.g. the commit before
 * a change, extracted with `git archive`); it only needs that checkout's `src/cli.ts`:
 *
 *   node bench/lib/api-load-case.ts [--root DIR] [--dialect sqlite|postgres] [--roles all|split]
 *     [--load on|off] [--clients 8] [--rows N]
 *
 * `--dialect postgres` creates (and drops) a database on the server of TEST_DATABASE_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPostgresUrl } from '../../test/support/databases.ts';
import { insertInventory } from '../../test/support/e2e-stack.ts';
import { apiClient, freePort, type SimCall, simAdmin, waitUntil } from '../../test/support/processes.ts';
import { testIccids } from '../../test/support/service.ts';

export interface ApiLoadResult {
  root: string;
  dialect: 'sqlite' | 'postgres';
  roles: 'all' | 'split';
  load: boolean;
  clients: number;
  rows: number;
  /** Accepted carrier requests ÷ the span from the first to the last (the limit is 50). */
  carrierRequestsPerSecond: number;
  /** The simulator's count: most accepted requests within any sliding second (the limit is 50). */
  mostInASecond: number;
  /** Smallest gap between two arrivals at the simulator (the limiter spaces them 20.4 ms apart). */
  smallestGapMs: number;
  /** API requests the load clients had answered per second meanwhile. */
  apiRequestsPerSecond: number;
  /** Load requests that failed (an error answer or none): the API's own trouble under the load. */
  apiRequestsFailed: number;
  endToEndMs: number;
}

const RATE = 50;
const LATENCY_MS = 100;

interface Started {
  child: ChildProcess;
  output: () => string;
}

function startNode(root: string, args: string[], env: Record<string, string>): Started {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('NODE_TEST') && !key.startsWith('BULKCHANGE_') && key !== 'DATABASE_URL',
    ),
  ) as Record<string, string>;
  const child = spawn(process.execPath, [path.join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return { child, output: () => output };
}

async function healthy(url: string): Promise<void> {
  await waitUntil(`${url}/healthz`, async () => {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? true : undefined;
  });
}

export async function measureApiLoad(options: {
  root: string;
  dialect: 'sqlite' | 'postgres';
  roles: 'all' | 'split';
  load: boolean;
  rows: number;
  /** API clients reading one large page after another. */
  clients: number;
}): Promise<ApiLoadResult> {
  const { root, rows } = options;
  const data = mkdtempSync(path.join(tmpdir(), 'bulkchange-apiload-'));
  const postgres = options.dialect === 'postgres' ? await createPostgresUrl() : undefined;
  const processes: Started[] = [];
  try {
    const simulator = startNode(root, ['simulate', 'jasper', '--port', '0'], {});
    processes.push(simulator);
    const simulatorUrl = await waitUntil(
      'the simulator',
      async () => simulator.output().match(/listening at (http:\/\/\S+)/)?.[1],
    );
    const sim = simAdmin(simulatorUrl);
    await sim.setFaults({ rateLimitPerSecond: RATE, latencyMs: LATENCY_MS, maxConcurrent: null });

    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      BULKCHANGE_DATA_DIR: data,
      LOG_LEVEL: 'warn',
      JOB_LEASE_MS: '30000',
      WORKER_POLL_INTERVAL_MS: '250',
      ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    };
    const key = startNode(root, ['keys', 'create', '--tenant', 'acme', '--role', 'admin'], env);
    await new Promise((resolve) => key.child.once('close', resolve));
    const adminKey = key.output().trim().split('\n').at(-1)!;
    const url = `http://127.0.0.1:${port}`;
    const api = apiClient(url, adminKey);

    if (options.roles === 'all') processes.push(startNode(root, ['serve'], env));
    else {
      processes.push(startNode(root, ['serve', '--role', 'api'], env));
      processes.push(
        startNode(root, ['serve', '--role', 'worker'], {
          ...env,
          WORKER_HTTP_PORT: String(await freePort()),
        }),
      );
    }
    await healthy(url);

    const created = await api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
      body: {
        name: 'api load',
        carrier: 'jasper',
        baseUrl: simulatorUrl,
        credentials: { username: 'demo', apiKey: 'demo-api-key' },
        writeEnabled: true,
        settings: { limits: { requestsPerSecond: RATE, maxConcurrent: 8 } },
      },
    });
    if (created.status !== 201) throw new Error(`account: ${created.status} ${created.text}`);
    const accountId = created.body.id;
    const iccids = testIccids(rows, '8901474');
    await sim.seed(
      iccids.map((iccid) => ({
        iccid,
        state: 'ACTIVATION_READY',
        ratePlan: 'IoT Basic 1MB',
        communicationPlan: 'CP_Basic_ON',
      })),
    );
    await insertInventory(postgres?.url ?? path.join(data, 'bulkchange.db'), {
      tenant: 'acme',
      accountId,
      iccids,
      state: 'ACTIVATION_READY',
    });

    const started = Date.now();
    const change = await api<{ id: string }>('POST', '/api/v1/bulk-changes', {
      body: {
        carrierAccountId: accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active' },
        changes: iccids.map((iccid) => ({ iccid })),
      },
    });
    if (change.status !== 201) throw new Error(`bulk change: ${change.status} ${change.text}`);
    const id = change.body.id;

    // The API's load: clients reading the largest pages it serves, one request after another.
    let loading = options.load;
    let answered = 0;
    let failed = 0;
    const loadStarted = performance.now();
    const clients = Array.from({ length: options.load ? options.clients : 0 }, async (_, index) => {
      while (loading) {
        const pathname =
          index % 2 === 0
            ? `/api/v1/bulk-changes/${id}/changes?limit=1000`
            : `/api/v1/devices?carrierAccountId=${accountId}&limit=1000`;
        await api('GET', pathname).then(
          (answer) => {
            if (answer.status === 200) answered += 1;
            else failed += 1;
          },
          () => {
            failed += 1;
          },
        );
      }
    });
    const done = await waitUntil(
      'the bulk change to finish',
      async () => {
        const view = await api<{ status: string }>('GET', `/api/v1/bulk-changes/${id}`);
        return ['completed', 'completed_with_errors', 'failed'].includes(view.body.status)
          ? Date.now()
          : undefined;
      },
      600_000,
      200,
    );
    loading = false;
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await Promise.all(clients);

    const accepted = (await sim.calls('put_device'))
      .filter((call: SimCall) => call.status === 200)
      .map((call: SimCall) => Date.parse(call.at))
      .sort((a, b) => a - b);
    const span = (accepted.at(-1)! - accepted[0]) / 1000;
    const gaps = accepted.slice(1).map((at, index) => at - accepted[index]);
    const stats = (await (await fetch(`${simulatorUrl}/_sim/stats`)).json()) as {
      maxObservedRequestsPerSecond: number;
    };
    return {
      root,
      dialect: options.dialect,
      roles: options.roles,
      load: options.load,
      clients: options.load ? options.clients : 0,
      rows,
      carrierRequestsPerSecond: Math.round(((accepted.length - 1) / span) * 100) / 100,
      mostInASecond: stats.maxObservedRequestsPerSecond,
      smallestGapMs: Math.min(...gaps),
      apiRequestsPerSecond: Math.round((answered / loadSeconds) * 10) / 10,
      apiRequestsFailed: failed,
      endToEndMs: done - started,
    };
  } finally {
    for (const started of processes) started.child.kill('SIGKILL');
    await Promise.all(
      processes.map(
        (started) =>
          new Promise((resolve) => {
            if (started.child.exitCode !== null || started.child.signalCode !== null) resolve(undefined);
            else started.child.once('close', resolve);
          }),
      ),
    );
    await postgres?.drop();
    rmSync(data, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..') },
      dialect: { type: 'string', default: 'sqlite' },
      roles: { type: 'string', default: 'all' },
      load: { type: 'string', default: 'on' },
      rows: { type: 'string', default: '1500' },
      clients: { type: 'string', default: '8' },
    },
  });
  const result = await measureApiLoad({
    root: path.resolve(values.root),
    dialect: values.dialect === 'postgres' ? 'postgres' : 'sqlite',
    roles: values.roles === 'split' ? 'split' : 'all',
    load: values.load !== 'off',
    rows: Number(values.rows),
    clients: Number(values.clients),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
