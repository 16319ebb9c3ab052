import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiKeys } from './accounts/api-keys.ts';
import { CarrierAccounts } from './accounts/carrier-accounts.ts';
import { loadSecretBox } from './accounts/secret-box.ts';
import { BillingCatalogs } from './billing/billing-catalogs.ts';
import { BillingConnections } from './billing/billing-connections.ts';
import { withSharedFlows } from './billing/shared-flows.ts';
import { BulkChanges } from './bulk-changes/bulk-changes-service.ts';
import { advanceBulkChange, createEnqueue } from './bulk-changes/jobs.ts';
import { CallbackIngress } from './callbacks/callback-ingress.ts';
import { AccountHealth, observedHttpFactory } from './carriers/account-health.ts';
import { closeSharedAgent } from './carriers/http/agent.ts';
import { carrierHttpClients } from './carriers/http/factory.ts';
import type { CarrierGuards } from './carriers/limits/guards.ts';
import { LocalGuards } from './carriers/limits/local-guards.ts';
import { SharedGuards } from './carriers/limits/shared-guards.ts';
import { CarrierRegistry, carrierAdapters } from './carriers/registry.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { startDemo } from './demo/demo-runtime.ts';
import { Devices } from './devices/devices-service.ts';
import { InventorySync, inventorySyncTask } from './devices/inventory-sync.ts';
import { Engine } from './engine/engine.ts';
import { buildApp } from './http/app.ts';
import { circuitStateValue, createMetrics } from './http/metrics.ts';
import { buildWorkerApp } from './http/worker-app.ts';
import { createWorker, handleTask, QueueNotifier, taskHandlers, type Worker } from './queue/index.ts';
import { newId } from './shared/ids.ts';

export type Role = 'api' | 'worker' | 'all';

/** The shared guards' own connections (three short statements per carrier request). */
const GUARD_CONNECTIONS = 3;

/** Every task this build defines; the worker refuses to start without a handler for each. */
const definedTasks = [advanceBulkChange, inventorySyncTask];

export interface Service {
  /** The API's base URL, when this process serves it. */
  url: string | null;
  database: DatabaseHandle;
  app: FastifyInstance | null;
  worker: Worker | null;
  /** Set when the demo runs: where it is and the key to use. */
  demo: { url: string; apiKey: string; file: string } | null;
  stop(): Promise<void>;
}

/** Wires the process: database → services → API and/or worker (DESIGN §4: one codebase, three roles). */
export async function startService(options: {
  config: Config;
  role: Role;
  demo: boolean;
  logger: Logger;
}): Promise<Service> {
  const { config, role, logger } = options;
  const database = openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.BULKCHANGE_DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  const { db, capabilities } = database;
  await migrateToLatest(db, capabilities);
  logger.info({ database: database.location }, 'database ready');

  // This process, in the queue's leases and the shared guards' tables: unique in the deployment.
  const processId = `${hostname()}:${process.pid}:${newId().slice(-12)}`;
  database.notifications?.onError((error) =>
    logger.warn({ err: error }, 'database: the LISTEN connection dropped; reconnecting'),
  );
  const secrets = loadSecretBox({
    keyHex: config.BULKCHANGE_ENCRYPTION_KEY,
    dataDir: config.BULKCHANGE_DATA_DIR,
  });
  // A process that runs a worker labels its metrics with its worker id.
  const metrics = createMetrics({ workerId: role === 'api' ? undefined : processId });
  const guardObserver = {
    limiterWaited: (_key: string, ms: number) => metrics.limiterWaits.observe(ms / 1000),
  };
  const accountHealth = new AccountHealth();
  // Every per-account guard lives in this one registry (DESIGN §2.6): in this process on the embedded
  // database, in the database for every worker of the deployment where it is shared (ADR 0014).
  const guardLogger = logger.child({ component: 'guards' });
  const guards: CarrierGuards = capabilities.sharedGuards
    ? new SharedGuards({
        // Connections of their own: a busy API must not hold up the carrier calls of this process.
        db: database.reserved(GUARD_CONNECTIONS),
        notifications: database.notifications,
        holder: processId,
        sealer: { seal: (text) => secrets.encrypt(text), open: (text) => secrets.decrypt(text) },
        observer: guardObserver,
        onError: (error) =>
          guardLogger.warn({ err: error }, 'guards: database trouble; erring on the safe side'),
      })
    : new LocalGuards(guardObserver);
  const http = observedHttpFactory(accountHealth, carrierHttpClients(guards), (record) => {
    if (record.httpStatus === 429) metrics.carrierThrottled.inc({ system: record.system });
  });
  const billing = new BillingConnections(db, secrets, http);
  const registry = new CarrierRegistry(
    carrierAdapters({ http, guards }).map((adapter) => withSharedFlows(adapter, billing)),
  );
  const accounts = new CarrierAccounts(db, secrets, registry);
  // Enqueues announce themselves to the workers of every process where the database can (ADR 0015).
  const notifier = new QueueNotifier(database.notifications);
  const enqueue = createEnqueue(notifier);
  let worker: Worker | null = null;
  const health = {
    db,
    metrics,
    notReadyBecause: () => {
      const loop = worker?.health();
      if (loop && !loop.running) return 'The worker is stopping';
      if (loop && loop.claimFailures > 0)
        return `The worker cannot claim jobs (${loop.claimFailures} failures in a row)`;
      if (worker && !notifier.hearing) return 'The worker hears no wake-ups (the LISTEN connection is down)';
      return null;
    },
    beforeScrape: () => {
      for (const [accountId, state] of accountHealth.circuits())
        metrics.circuits.set({ carrier_account_id: accountId }, circuitStateValue[state]);
    },
  };

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let demoInfo: Service['demo'] = null;
  if (role !== 'worker') {
    app = await buildApp({
      ...health,
      logger,
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      apiKeys: new ApiKeys(db),
      accounts,
      billing,
      catalogs: new BillingCatalogs(db, billing),
      bulkChanges: new BulkChanges({ db, accounts, registry, enqueue }),
      devices: new Devices(db),
      callbacks: new CallbackIngress({ db, accounts, registry, enqueue }),
      registry,
      accountHealth,
      requestInventorySync: async (carrierAccountId) => {
        await enqueue(db, inventorySyncTask.job({ carrierAccountId }));
      },
    });
    const demo = options.demo ? await startDemo({ app, database, accounts, billing, config, logger }) : null;
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    url = config.BULKCHANGE_PUBLIC_URL ?? address.replace('[::1]', 'localhost');
    demoInfo = (await demo?.ready(url)) ?? null;
  }

  let workerApp: FastifyInstance | null = null;
  if (role !== 'api') {
    const engine = new Engine({
      db,
      capabilities,
      accounts,
      registry,
      enqueue,
      logger: logger.child({ component: 'engine' }),
      rowLeaseMs: config.JOB_LEASE_MS,
      onCarrierCall: (record) =>
        metrics.carrierCalls.observe(
          { system: record.system, action: record.action, outcome: record.outcome },
          record.durationMs / 1000,
        ),
    });
    const inventorySync = new InventorySync({
      db,
      accounts,
      registry,
      logger: logger.child({ component: 'inventory-sync' }),
    });
    worker = createWorker({
      db,
      capabilities,
      workerId: processId,
      concurrency: config.WORKER_CONCURRENCY,
      pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
      leaseMs: config.JOB_LEASE_MS,
      notifier,
      logger: logger.child({ component: 'worker' }),
      onClaimed: (count) => metrics.jobsClaimed.inc(count),
      onLeaseRenewed: () => metrics.leaseRenewals.inc(),
      tasks: taskHandlers(definedTasks, [
        handleTask(advanceBulkChange, ({ bulkChangeId }, context) =>
          engine.advance(bulkChangeId, context.signal),
        ),
        handleTask(inventorySyncTask, ({ carrierAccountId }, context) =>
          inventorySync.run(carrierAccountId, context.signal),
        ),
      ]),
    });
    worker.start();
    if (role === 'worker') {
      // A worker serves no API, but is watched like every process: health, readiness, metrics.
      workerApp = await buildWorkerApp({ ...health, logger });
      const address = await workerApp.listen({ port: config.WORKER_HTTP_PORT, host: config.HOST });
      logger.info({ url: address, workerId: processId }, 'worker serving /healthz, /readyz and /metrics');
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // The worker first: its in-flight calls may be to simulators this process serves.
      await worker?.stop(config.SHUTDOWN_GRACE_MS);
      await app?.close();
      await workerApp?.close();
      guards.close();
      await closeSharedAgent();
      await database.close();
    })();
    return stopping;
  };
  return { url, database, app, worker, demo: demoInfo, stop };
}
