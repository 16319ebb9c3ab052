import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CarrierAccounts } from './accounts/carrier-accounts.ts';
import { loadSecretBox } from './accounts/secret-box.ts';
import { BillingConnections } from './billing/billing-connections.ts';
import { BulkChanges } from './bulk-changes/bulk-changes-service.ts';
import { AccountHealth, observedHttpFactory } from './carriers/account-health.ts';
import { closeSharedAgent } from './carriers/http.ts';
import { createCarrierHttpClient } from './carriers/http-factory.ts';
import { CarrierRegistry } from './carriers/registry.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { startDemo } from './demo/demo-runtime.ts';
import { INVENTORY_SYNC_TASK, InventorySync, inventorySyncJob } from './devices/inventory-sync.ts';
import { Engine } from './engine/engine.ts';
import { ADVANCE_TASK, createEnqueue } from './engine/jobs.ts';
import { buildApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { createWorker, NonRetryableError, QueueNotifier, type Worker } from './queue/index.ts';

const advancePayload = z.object({ bulkChangeId: z.string().min(1) });
const inventorySyncPayload = z.object({ carrierAccountId: z.string().min(1) });

export type Role = 'api' | 'worker' | 'all';

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
  await migrateToLatest(database.db, database.dialect);
  logger.info({ database: database.location, dialect: database.dialect }, 'database ready');

  const accountHealth = new AccountHealth();
  const registry = new CarrierRegistry(observedHttpFactory(accountHealth));
  const secrets = loadSecretBox({
    keyHex: config.BULKCHANGE_ENCRYPTION_KEY,
    dataDir: config.BULKCHANGE_DATA_DIR,
  });
  const accounts = new CarrierAccounts(database.db, secrets, registry);
  const billing = new BillingConnections(database.db, secrets, createCarrierHttpClient);
  const notifier = new QueueNotifier();
  const enqueue = createEnqueue(notifier);
  const metrics = createMetrics();

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let demoInfo: Service['demo'] = null;
  if (role !== 'worker') {
    const bulkChanges = new BulkChanges({
      db: database.db,
      dialect: database.dialect,
      accounts,
      registry,
      enqueue,
    });
    app = await buildApp({
      db: database.db,
      accounts,
      billing,
      bulkChanges,
      metrics,
      logger,
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      dialect: database.dialect,
      enqueue,
      registry,
      accountHealth,
      requestInventorySync: async (carrierAccountId) => {
        await enqueue(database.db, inventorySyncJob(carrierAccountId));
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
      db: database.db,
      dialect: database.dialect,
      accounts,
      registry,
      enqueue,
      logger: logger.child({ component: 'engine' }),
      rowLeaseMs: config.JOB_LEASE_MS,
      billing,
      onCarrierCall: (record) =>
        metrics.carrierCalls.observe(
          { system: record.system, action: record.action, outcome: record.outcome },
          record.durationMs / 1000,
        ),
    });
    const inventorySync = new InventorySync({
      db: database.db,
      accounts,
      registry,
      logger: logger.child({ component: 'inventory-sync' }),
    });
    worker = createWorker({
      db: database.db,
      dialect: database.dialect,
      concurrency: config.WORKER_CONCURRENCY,
      pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
      leaseMs: config.JOB_LEASE_MS,
      notifier,
      logger: logger.child({ component: 'worker' }),
      tasks: {
        [ADVANCE_TASK]: async (payload, context) => {
          const parsed = advancePayload.safeParse(payload);
          if (!parsed.success) throw new NonRetryableError(`Invalid payload: ${parsed.error.message}`);
          const { bulkChangeId } = parsed.data;
          await engine.advance(bulkChangeId, context.signal);
        },
        [INVENTORY_SYNC_TASK]: async (payload, context) => {
          const parsed = inventorySyncPayload.safeParse(payload);
          if (!parsed.success) throw new NonRetryableError(`Invalid payload: ${parsed.error.message}`);
          await inventorySync.run(parsed.data.carrierAccountId, context.signal);
        },
      },
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
