import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiKeys } from './accounts/api-keys.ts';
import { accountReports, CarrierAccounts } from './accounts/carrier-accounts.ts';
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
import { LimiterRegistry } from './carriers/limits/limiter.ts';
import { CarrierRegistry, carrierAdapters } from './carriers/registry.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { startDemo } from './demo/demo-runtime.ts';
import { Devices } from './devices/devices-service.ts';
import { InventorySync, inventorySyncTask } from './devices/inventory-sync.ts';
import { Engine } from './engine/engine.ts';
import { buildApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { createWorker, handleTask, QueueNotifier, taskHandlers, type Worker } from './queue/index.ts';

export type Role = 'api' | 'worker' | 'all';

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
  const database = openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BULKCHANGE_DATA_DIR });
  const { db, capabilities } = database;
  await migrateToLatest(db, capabilities);
  logger.info({ database: database.location }, 'database ready');

  const accountHealth = new AccountHealth();
  // Every per-account limit of this process lives in this one registry (DESIGN §2.6).
  const limiters = new LimiterRegistry();
  const http = observedHttpFactory(accountHealth, carrierHttpClients(limiters));
  const secrets = loadSecretBox({
    keyHex: config.BULKCHANGE_ENCRYPTION_KEY,
    dataDir: config.BULKCHANGE_DATA_DIR,
  });
  const billing = new BillingConnections(db, secrets, http);
  const registry = new CarrierRegistry(
    carrierAdapters({ http, limiters }).map((adapter) => withSharedFlows(adapter, billing)),
    accountReports(db),
  );
  const accounts = new CarrierAccounts(db, secrets, registry);
  const notifier = new QueueNotifier();
  const enqueue = createEnqueue(notifier);
  const metrics = createMetrics();

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let demoInfo: Service['demo'] = null;
  if (role !== 'worker') {
    app = await buildApp({
      db,
      metrics,
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

  let worker: Worker | null = null;
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
      concurrency: config.WORKER_CONCURRENCY,
      pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
      leaseMs: config.JOB_LEASE_MS,
      notifier,
      logger: logger.child({ component: 'worker' }),
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
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // The worker first: its in-flight calls may be to simulators this process serves.
      await worker?.stop(config.SHUTDOWN_GRACE_MS);
      await app?.close();
      await closeSharedAgent();
      await database.close();
    })();
    return stopping;
  };
  return { url, database, app, worker, demo: demoInfo, stop };
}
