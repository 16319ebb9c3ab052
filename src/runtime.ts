import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiKeys } from './accounts/api-keys.ts';
import { CarrierAccounts } from './accounts/carrier-accounts.ts';
import { loadSecretBox } from './accounts/secret-box.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuditSealer, auditSealTask } from './audit/audit-sealer.ts';
import { BillingCatalogs } from './billing/billing-catalogs.ts';
import { BillingConnections } from './billing/billing-connections.ts';
import { withSharedFlows } from './billing/shared-flows.ts';
import { BulkChanges } from './bulk-changes/bulk-changes-service.ts';
import { dispatchEventsTask } from './bulk-changes/events.ts';
import { advanceBulkChange, createEnqueue } from './bulk-changes/jobs.ts';
import { Retention, retentionTask } from './bulk-changes/retention.ts';
import { CallbackIngress } from './callbacks/callback-ingress.ts';
import { AccountHealth, observedHttpFactory } from './carriers/account-health.ts';
import { closeSharedAgent, sharedAgent } from './carriers/http/agent.ts';
import { carrierHttpClients } from './carriers/http/factory.ts';
import { LimiterRegistry } from './carriers/limits/limiter.ts';
import { CarrierRegistry, carrierAdapters } from './carriers/registry.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { startDemo } from './demo/demo-runtime.ts';
import { Devices } from './devices/devices-service.ts';
import { InventorySync, inventorySyncTask, requestInventorySync } from './devices/inventory-sync.ts';
import { Engine } from './engine/engine.ts';
import { buildApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { CompletionMailer } from './notifications/completion-mailer.ts';
import { EventDispatcher } from './notifications/event-dispatcher.ts';
import { EventFeed } from './notifications/event-feed.ts';
import { NotificationSettings } from './notifications/notification-settings.ts';
import { deliverWebhookTask, sendCompletionEmailTask } from './notifications/tasks.ts';
import { WebhookSender } from './notifications/webhook-sender.ts';
import { shapeCheckedTargets } from './notifications/webhook-targets.ts';
import { Webhooks } from './notifications/webhooks.ts';
import {
  createWorker,
  handlePeriodically,
  handleTask,
  QueueNotifier,
  schedulePeriodic,
  taskHandlers,
  type Worker,
} from './queue/index.ts';

export type Role = 'api' | 'worker' | 'all';

/** Every task this build defines; the worker refuses to start without a handler for each. */
const definedTasks = [
  advanceBulkChange,
  inventorySyncTask,
  auditSealTask,
  dispatchEventsTask,
  deliverWebhookTask,
  sendCompletionEmailTask,
  retentionTask,
];

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
  );
  const accounts = new CarrierAccounts(db, secrets, registry);
  const notifier = new QueueNotifier();
  const enqueue = createEnqueue(notifier);
  const metrics = createMetrics();
  const bulkChanges = new BulkChanges({ db, accounts, registry, enqueue });
  // Webhooks go where carrier calls may go: through the same agent (ADR 0023).
  const webhookTargets = shapeCheckedTargets(sharedAgent());
  const webhooks = new Webhooks({ db, secrets, targets: webhookTargets, enqueue });

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
      audit: new AuditLog(db, capabilities),
      accounts,
      billing,
      catalogs: new BillingCatalogs(db, billing),
      bulkChanges,
      webhooks,
      notificationSettings: new NotificationSettings(db, config.BULKCHANGE_SMTP_URL !== undefined),
      eventFeed: new EventFeed(db),
      devices: new Devices(db),
      callbacks: new CallbackIngress({ db, accounts, registry, enqueue }),
      registry,
      accountHealth,
      requestInventorySync: (account, actor) => requestInventorySync(db, enqueue, account, actor),
    });
    const demo = options.demo ? await startDemo({ app, database, accounts, billing, config, logger }) : null;
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    url = config.BULKCHANGE_PUBLIC_URL ?? address.replace('[::1]', 'localhost');
    demoInfo = (await demo?.ready(url)) ?? null;
  }

  // Links in mails point where the portal is: the public URL, else where this process serves it.
  const mailer = config.BULKCHANGE_SMTP_URL
    ? new CompletionMailer({
        db,
        bulkChanges,
        accounts,
        settings: {
          smtpUrl: config.BULKCHANGE_SMTP_URL,
          from: config.BULKCHANGE_MAIL_FROM,
          publicUrl: url ?? `http://${config.HOST}:${config.PORT}`,
        },
      })
    : null;

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
    const sealer = new AuditSealer(db, capabilities);
    const retention = config.BULKCHANGE_RETENTION_DAYS
      ? new Retention({
          db,
          capabilities,
          retentionDays: config.BULKCHANGE_RETENTION_DAYS,
          exportDir: config.BULKCHANGE_EXPORT_DIR ?? path.join(config.BULKCHANGE_DATA_DIR, 'exports'),
          logger: logger.child({ component: 'retention' }),
        })
      : null;
    const dispatcher = new EventDispatcher({ db, capabilities, enqueue, emailEnabled: mailer !== null });
    const sender = new WebhookSender({
      db,
      secrets,
      targets: webhookTargets,
      policy: {
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
        retryForMs: config.WEBHOOK_RETRY_FOR_MS,
      },
      logger: logger.child({ component: 'webhooks' }),
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
        handlePeriodically(
          db,
          auditSealTask,
          { everyMs: config.AUDIT_SEAL_INTERVAL_MS, payload: {} },
          async () => {
            await sealer.sealAll();
          },
        ),
        handleTask(dispatchEventsTask, ({ tenantId }) => dispatcher.dispatch(tenantId)),
        handleTask(
          deliverWebhookTask,
          ({ deliveryId }, context) => sender.deliver(deliveryId, context.signal),
          {
            onGiveUp: ({ deliveryId }, reason) => sender.giveUp(deliveryId, reason),
          },
        ),
        // Without SMTP no e-mail job is queued; one queued before a restart without it does nothing.
        handleTask(sendCompletionEmailTask, async ({ tenantId, bulkChangeId }) => {
          await mailer?.send(tenantId, bulkChangeId);
        }),
        handlePeriodically(
          db,
          retentionTask,
          { everyMs: config.BULKCHANGE_RETENTION_INTERVAL_MS, payload: {} },
          async () => {
            if (!retention) return;
            const { cutoff } = await retention.sweep();
            await webhooks.prune(cutoff);
          },
        ),
      ]),
    });
    await schedulePeriodic(db, auditSealTask, {});
    if (retention) await schedulePeriodic(db, retentionTask, {});
    worker.start();
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // The worker first: its in-flight calls may be to simulators this process serves.
      await worker?.stop(config.SHUTDOWN_GRACE_MS);
      await app?.close();
      mailer?.close();
      await closeSharedAgent();
      await database.close();
    })();
    return stopping;
  };
  return { url, database, app, worker, demo: demoInfo, stop };
}
