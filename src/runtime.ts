import { hostname } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiKeys } from './accounts/api-keys.ts';
import { accountReports, CarrierAccounts } from './accounts/carrier-accounts.ts';
import { loadSecretBox } from './accounts/secret-box.ts';
import { Users } from './accounts/users.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuditSealer, auditSealTask } from './audit/audit-sealer.ts';
import { BillingCatalogs } from './billing/billing-catalogs.ts';
import { BillingConnections } from './billing/billing-connections.ts';
import { withSharedFlows } from './billing/shared-flows.ts';
import { ApprovalPolicies } from './bulk-changes/approval-policy.ts';
import { BulkChanges } from './bulk-changes/bulk-changes-service.ts';
import { dispatchEventsTask } from './bulk-changes/events.ts';
import { advanceBulkChange, createEnqueue } from './bulk-changes/jobs.ts';
import { Retention, retentionTask } from './bulk-changes/retention.ts';
import { CallbackIngress } from './callbacks/callback-ingress.ts';
import { AccountHealth, observedHttpFactory } from './carriers/account-health.ts';
import { InvalidAllowEntryError, OutboundAddressPolicy } from './carriers/http/address-policy.ts';
import { outboundAgent } from './carriers/http/agent.ts';
import { carrierHttpClients } from './carriers/http/factory.ts';
import type { CarrierGuards } from './carriers/limits/guards.ts';
import { LocalGuards } from './carriers/limits/local-guards.ts';
import { SharedGuards } from './carriers/limits/shared-guards.ts';
import { quotaCalendar } from './carriers/line-quotas.ts';
import { CarrierRegistry, carrierAdapters } from './carriers/registry.ts';
import { type Config, ConfigError } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { startDemo } from './demo/demo-runtime.ts';
import { Devices } from './devices/devices-service.ts';
import { InventorySync, inventorySyncTask, requestInventorySync } from './devices/inventory-sync.ts';
import { Sites } from './devices/sites.ts';
import { Engine } from './engine/engine.ts';
import { buildApp } from './http/app.ts';
import { circuitStateValue, createMetrics } from './http/metrics.ts';
import { buildWorkerApp } from './http/worker-app.ts';
import { CompletionMailer } from './notifications/completion-mailer.ts';
import { EventDispatcher } from './notifications/event-dispatcher.ts';
import { EventFeed } from './notifications/event-feed.ts';
import { NotificationSettings } from './notifications/notification-settings.ts';
import { deliverWebhookTask, sendCompletionEmailTask } from './notifications/tasks.ts';
import { WebhookSender } from './notifications/webhook-sender.ts';
import { outboundTargets } from './notifications/webhook-targets.ts';
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
import {
  Reconciler,
  reconciliationAfterCallbackTask,
  reconciliationRunTask,
  reconciliationScheduleTask,
} from './reconciliation/reconciler.ts';
import { Reconciliations } from './reconciliation/reconciliations.ts';
import { newId } from './shared/ids.ts';

export type Role = 'api' | 'worker' | 'all';

/** The shared guards' own connections (three short statements per carrier request). */
const GUARD_CONNECTIONS = 3;

/** Every task this build defines; the worker refuses to start without a handler for each. */
const definedTasks = [
  advanceBulkChange,
  inventorySyncTask,
  auditSealTask,
  dispatchEventsTask,
  deliverWebhookTask,
  sendCompletionEmailTask,
  retentionTask,
  reconciliationRunTask,
  reconciliationScheduleTask,
  reconciliationAfterCallbackTask,
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
  // Every call on a tenant's behalf connects through this agent, under the address policy (DESIGN §5).
  const agent = outboundAgent(outbound);
  const http = observedHttpFactory(accountHealth, carrierHttpClients(guards, agent), (record) => {
    if (record.httpStatus === 429) metrics.carrierThrottled.inc({ system: record.system });
  });
  const billing = new BillingConnections(db, secrets, http, outbound);
  const registry = new CarrierRegistry(
    carrierAdapters({ http, guards }).map((adapter) => withSharedFlows(adapter, billing)),
    accountReports(db),
    quotaCalendar(config.LINE_QUOTA_PERIOD_MS),
  );
  const accounts = new CarrierAccounts(db, secrets, registry, outbound);
  // Enqueues announce themselves to the workers of every process where the database can (ADR 0015).
  const notifier = new QueueNotifier(database.notifications);
  const enqueue = createEnqueue(notifier);
  const bulkChanges = new BulkChanges({
    db,
    accounts,
    registry,
    enqueue,
    logger: logger.child({ component: 'bulk-changes' }),
  });
  const reconciliations = new Reconciliations({ db, capabilities, accounts, registry, bulkChanges, enqueue });
  // Webhooks go where carrier calls may go: under the same address policy, through the same agent (ADR 0023).
  const webhookTargets = outboundTargets(outbound, agent);
  const webhooks = new Webhooks({ db, secrets, targets: webhookTargets, enqueue });
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
      timeouts: {
        requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
        keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS,
      },
      authFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
      trustProxy: config.BULKCHANGE_TRUST_PROXY,
      answerCheck: config.BULKCHANGE_ANSWER_CHECK,
      publicUrl: config.BULKCHANGE_PUBLIC_URL,
      sessionLimits: {
        maxSessions: config.PORTAL_MAX_SESSIONS,
        idleMs: config.PORTAL_SESSION_IDLE_MS,
        maxAgeMs: config.PORTAL_SESSION_MAX_AGE_MS,
      },
      apiKeys: new ApiKeys(db),
      users: new Users(db),
      audit: new AuditLog(db, capabilities),
      accounts,
      billing,
      catalogs: new BillingCatalogs(db, billing),
      bulkChanges,
      approvalPolicies: new ApprovalPolicies(db),
      webhooks,
      notificationSettings: new NotificationSettings(db, config.BULKCHANGE_SMTP_URL !== undefined),
      eventFeed: new EventFeed(db),
      devices: new Devices(db),
      callbacks: new CallbackIngress({
        db,
        accounts,
        registry,
        enqueue,
        unmatchedSettleMs: config.RECONCILIATION_CALLBACK_SETTLE_MS,
      }),
      sites: new Sites(db),
      registry,
      accountHealth,
      requestInventorySync: (account, actor) => requestInventorySync(db, enqueue, account, actor),
      reconciliations,
    });
    const demo = options.demo ? await startDemo({ app, database, accounts, billing, config, logger }) : null;
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    url = config.BULKCHANGE_PUBLIC_URL ?? address.replace('[::1]', 'localhost');
    // The demo's accounts call the simulators this process serves: its own host, allowed by name here
    // rather than by weakening the default.
    if (demo) outbound.allow([new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')]);
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
      sliceMs: config.ENGINE_SLICE_MS,
      parallelJobs: config.ENGINE_PARALLEL_JOBS,
      blastRadiusWindowMs: config.BLAST_RADIUS_WINDOW_MS,
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
    const reconciler = new Reconciler({
      db,
      accounts,
      registry,
      billing,
      logger: logger.child({ component: 'reconciliation' }),
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
        handleTask(
          advanceBulkChange,
          ({ bulkChangeId, slot }, context) =>
            engine.advance(bulkChangeId, context.signal, { slot, jobId: context.jobId }),
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
        handleTask(reconciliationRunTask, ({ reconciliationId }, context) =>
          reconciler.run(reconciliationId, context.signal),
        ),
        handleTask(reconciliationAfterCallbackTask, (result) => reconciliations.afterCallback(result)),
        handlePeriodically(
          db,
          reconciliationScheduleTask,
          { everyMs: config.RECONCILIATION_SCHEDULE_CHECK_MS, payload: {} },
          async () => {
            await reconciliations.runDue();
          },
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
    await schedulePeriodic(db, reconciliationScheduleTask, {});
    if (retention) await schedulePeriodic(db, retentionTask, {});
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
      mailer?.close();
      guards.close();
      await agent.close();
      await database.close();
    })();
    return stopping;
  };
  return { url, database, app, worker, demo: demoInfo, stop };
}
