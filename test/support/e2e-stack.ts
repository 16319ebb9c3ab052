import path from 'node:path';
import { accountsRepository } from '../../src/accounts/accounts-repository.ts';
import { normaliseJasperStatus } from '../../src/carriers/jasper/statuses.ts';
import type { NormalisedStatus } from '../../src/core/statuses.ts';
import { openPostgres, openSqliteFile } from '../../src/db/database.ts';
import { devicesRepository } from '../../src/devices/devices-repository.ts';
import { newId } from '../../src/shared/ids.ts';
import { carrierAccountFixture } from './carrier-accounts.ts';
import { createPostgresUrl } from './databases.ts';
import {
  type Api,
  apiClient,
  type Child,
  freePort,
  killAllChildren,
  runCli,
  simAdmin,
  startCli,
  tempDir,
  waitForHealthy,
} from './processes.ts';
import { testIccids } from './service.ts';

/**
 * The real processes of a deployment: a Jasper simulator (`bulkchange simulate jasper`), and a
 * `bulkchange serve` that can be killed and started again on the same data dir, database and port.
 */
export interface E2eStack {
  dialect: 'sqlite' | 'postgres';
  dataDir: string;
  env: Record<string, string>;
  port: number;
  url: string;
  adminKey: string;
  api: Api;
  simulatorUrl: string;
  sim: ReturnType<typeof simAdmin>;
  /** The `bulkchange simulate jasper` process. */
  simulator: Child;
  /** The database the server uses: a PostgreSQL URL or the SQLite file. */
  databaseLocation: string;
  server: Child | undefined;
  /** How long a process it starts may take to answer /healthz. */
  startTimeoutMs: number;
  /** Starts `bulkchange serve` (role all, no demo) and waits until it answers /healthz. */
  startServer(): Promise<Child>;
  /** A Jasper account on the simulator; lines seeded in the simulator and (straight into the database) the inventory. */
  createJasperAccount(options: {
    limits: Record<string, unknown>;
    count: number;
    prefix: string;
    state?: string;
    /** Seed the lines into the simulator too (default true). */
    seedSimulator?: boolean;
    /** Lines per `POST /_sim/devices` (default: all in one request). */
    simulatorBatch?: number;
    /** Where the account calls (default: the simulator; a test proxy in front of it, say). */
    baseUrl?: string;
  }): Promise<{ accountId: string; iccids: string[] }>;
  /** Kills every process and removes the data dir and the database. */
  close(): Promise<void>;
}

export async function startE2eStack(options: {
  dialect: 'sqlite' | 'postgres';
  env?: Record<string, string>;
  simulatorFaults?: Record<string, unknown>;
  /** Node options for the `serve` process (e.g. `--cpu-prof`). */
  serverNodeArgs?: string[];
  /** How long a process may take to answer /healthz (default 60 s: several may start at once on a busy machine). */
  startTimeoutMs?: number;
}): Promise<E2eStack> {
  const data = tempDir();
  const postgres = options.dialect === 'postgres' ? await createPostgresUrl() : undefined;
  let simulator: Child | undefined;
  const close = async () => {
    await killAllChildren();
    await postgres?.drop();
    data.remove();
  };
  try {
    simulator = startCli(['simulate', 'jasper', '--port', '0']);
    const [, simulatorUrl] = await simulator.waitForOutput(
      /listening at (http:\/\/\S+)/,
      options.startTimeoutMs,
    );
    const sim = simAdmin(simulatorUrl);
    await sim.setFaults({ rateLimitPerSecond: null, maxConcurrent: null, ...options.simulatorFaults });

    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      BULKCHANGE_DATA_DIR: data.dir,
      JOB_LEASE_MS: '2000',
      WORKER_POLL_INTERVAL_MS: '50',
      LOG_LEVEL: 'warn',
      // The simulator listens on loopback, which the default outbound policy refuses.
      BULKCHANGE_OUTBOUND_ALLOW: '127.0.0.0/8,::1',
      ...(postgres ? { DATABASE_URL: postgres.url } : {}),
      ...options.env,
    };
    const created = await runCli(
      ['keys', 'create', '--tenant', 'acme', '--role', 'admin'],
      env,
      options.startTimeoutMs,
    );
    if (created.code !== 0) throw new Error(`keys create: ${created.code} ${created.stderr}`);
    const adminKey = created.stdout.trim();
    const url = `http://127.0.0.1:${port}`;
    const api = apiClient(url, adminKey);
    const databaseLocation = postgres?.url ?? path.join(data.dir, 'bulkchange.db');

    const stack: E2eStack = {
      dialect: options.dialect,
      dataDir: data.dir,
      env,
      port,
      url,
      adminKey,
      api,
      simulatorUrl,
      sim,
      simulator,
      databaseLocation,
      server: undefined,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      async startServer() {
        const server = startCli(['serve'], env, { nodeArgs: options.serverNodeArgs });
        stack.server = server;
        await waitForHealthy(url, server, stack.startTimeoutMs);
        return server;
      },
      async createJasperAccount({
        limits,
        count,
        prefix,
        state = 'ACTIVATION_READY',
        seedSimulator = true,
        simulatorBatch = count,
        baseUrl = simulatorUrl,
      }) {
        const accountId = await carrierAccountFixture(stack, {
          name: `jasper e2e ${prefix}`,
          carrier: 'jasper',
          baseUrl,
          credentials: { username: 'demo', apiKey: 'demo-api-key' },
          limits,
        });
        const iccids = testIccids(count, prefix);
        for (let start = 0; seedSimulator && start < count; start += Math.max(1, simulatorBatch)) {
          await sim.seed(
            iccids.slice(start, start + Math.max(1, simulatorBatch)).map((iccid) => ({
              iccid,
              state,
              ratePlan: 'IoT Basic 1MB',
              communicationPlan: 'CP_Basic_ON',
            })),
          );
        }
        await insertInventory(databaseLocation, { tenant: 'acme', accountId, iccids, state });
        return { accountId, iccids };
      },
      close,
    };
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * There is no API to add lines to the inventory: they go straight into the database the server uses
 * (SQLite in WAL mode lets two processes share the file), in one transaction.
 */
export async function insertInventory(
  location: string,
  lines: { tenant: string; accountId: string; iccids: string[]; state: string; status?: NormalisedStatus },
): Promise<void> {
  const handle = location.startsWith('postgres') ? openPostgres(location, 2) : openSqliteFile(location);
  try {
    const tenant = await accountsRepository(handle.db).findTenantByName(lines.tenant);
    if (!tenant) throw new Error(`no tenant ${lines.tenant}`);
    const now = Date.now();
    await handle.db.transaction().execute((tx) =>
      devicesRepository(tx).insertMany(
        lines.iccids.map((iccid) => ({
          id: newId(now),
          tenantId: tenant.id,
          carrierAccountId: lines.accountId,
          iccid,
          status: lines.status ?? normaliseJasperStatus(lines.state),
          carrierStatus: lines.state,
          carrierRatePlan: 'IoT Basic 1MB',
          communicationPlan: 'CP_Basic_ON',
        })),
        now,
      ),
    );
  } finally {
    await handle.close();
  }
}

export interface ChangeView {
  id: string;
  row: number;
  iccid: string;
  status: string;
  attempts: number;
  error: { code: string; message: string } | null;
}

export interface LogEntryView {
  id: string;
  changeId: string | null;
  action: string;
  outcome: string;
  httpStatus: number | null;
}

/** Counts per key. */
export function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
