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
import { InvalidAllowEntryError, OutboundAddressPolicy } from './carriers/http/address-policy.ts';
import { outboundAgent } from './carriers/http/agent.ts';
import { carrierHttpClients } from './carriers/http/factory.ts';
import { LimiterRegistry } from './carriers/limits/limiter.ts';
import { CarrierRegistry, carrierAdapters } from './carriers/registry.ts';
import { type Config, ConfigError } from './config.ts';
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

/** The outbound address policy of the configuration; an entry that is no network or host name stops the start. */
function outboundPolicy(config: Config): OutboundAddressPolicy {
  try {
    return new OutboundAddressPolicy(config.BULKCHANGE_OUTBOUND_ALLOW);
  } catch (error) {
    if (error instanceof InvalidAllowEntryError)
      throw new ConfigError([`BULKCHANGE_OUTBOUND_ALLOW: ${error.message}`]);
    throw error;
  }
}

/** Wires the process: database → services → API and/or worker (DESIGN §4: one codebase, three roles). */
export async function startService(options: {
  config: Config;
  role: Role;
  demo: boolean;
  logger: Logger;
}): Promise<Service> {
  const { config, role, logger } = options;
  const outbound = outboundPolicy(config);
  const database = openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BULKCHANGE_DATA_DIR });
  const { db, capabilities } = database;
  await migrateToLatest(db, capabilities);
  logger.info({ database: database.location }, 'database ready');

  const accountHealth = new AccountHealth();
  // Every per-account limit of this process lives in this one registry (DESIGN §2.6).
  const limiters = new LimiterRegistry();
  // Every call on a tenant's behalf connects through this agent, under the address policy (DESIGN §5).
  const agent = outboundAgent(outbound);
  const http = observedHttpFactory(accountHealth, carrierHttpClients(limiters, agent));
  const secrets = loadSecretBox({
    keyHex: config.BULKCHANGE_ENCRYPTION_KEY,
    dataDir: config.BULKCHANGE_DATA_DIR,
  });
  const billing = new BillingConnections(db, secrets, http, outbound);
  const registry = new CarrierRegistry(
    carrierAdapters({ http, limiters }).map((adapter) => withSharedFlows(adapter, billing)),
  );
  const accounts = new CarrierAccounts(db, secrets, registry, outbound);
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
      timeouts: {
        requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
        keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS,
      },
      authFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
      trustProxy: config.BULKCHANGE_TRUST_PROXY,
      publicUrl: config.BULKCHANGE_PUBLIC_URL,
      sessionLimits: {
        maxSessions: config.PORTAL_MAX_SESSIONS,
        idleMs: config.PORTAL_SESSION_IDLE_MS,
        maxAgeMs: config.PORTAL_SESSION_MAX_AGE_MS,
      },
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
    // The demo's accounts call the simulators this process serves: its own host, allowed by name here
    // rather than by weakening the default.
    if (demo) outbound.allow([new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')]);
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
      sliceMs: config.ENGINE_SLICE_MS,
      parallelJobs: config.ENGINE_PARALLEL_JOBS,
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
        handleTask(
          advanceBulkChange,
          ({ bulkChangeId }, context) => engine.advance(bulkChangeId, context.signal),
          {
            // Nothing stuck silently: a job that fails for good fails its bulk change, saying why.
            onGiveUp: async ({ bulkChangeId }, reason) => {
              if (await engine.giveUp(bulkChangeId, reason)) metrics.bulkChangesGivenUp.inc();
            },
          },
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
      await agent.close();
      await database.close();
    })();
    return stopping;
  };
  return { url, database, app, worker, demo: demoInfo, stop };
}
