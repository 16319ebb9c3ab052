import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { apiKeyRoutes } from '../accounts/api-key-routes.ts';
import type { ApiKeys } from '../accounts/api-keys.ts';
import { attemptThrottle } from '../accounts/attempt-throttle.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { type CarrierAccountRoutesOptions, carrierAccountRoutes } from '../accounts/routes.ts';
import { userRoutes } from '../accounts/user-routes.ts';
import type { Users } from '../accounts/users.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { BillingCatalogs } from '../billing/billing-catalogs.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import { billingRoutes } from '../billing/routes.ts';
import { ActivationWorkbookTemplates } from '../bulk-changes/activation-workbook-template.ts';
import type { ApprovalPolicies } from '../bulk-changes/approval-policy.ts';
import { approvalPolicyRoutes } from '../bulk-changes/approval-policy-routes.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import { bulkChangeRoutes } from '../bulk-changes/routes.ts';
import { selectionExportRoutes } from '../bulk-changes/selection-export-routes.ts';
import type { CallbackIngress } from '../callbacks/callback-ingress.ts';
import { callbackRoutes } from '../callbacks/routes.ts';
import type { AccountHealth } from '../carriers/account-health.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { AnswerCheck } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Devices } from '../devices/devices-service.ts';
import { deviceRoutes } from '../devices/routes.ts';
import { siteRoutes } from '../devices/site-routes.ts';
import type { Sites } from '../devices/sites.ts';
import type { EventFeed } from '../notifications/event-feed.ts';
import type { NotificationSettings } from '../notifications/notification-settings.ts';
import { notificationRoutes } from '../notifications/routes.ts';
import type { Webhooks } from '../notifications/webhooks.ts';
import { portalPlugin } from '../portal/plugin.ts';
import type { SessionLimits } from '../portal/session.ts';
import type { Reconciliations } from '../reconciliation/reconciliations.ts';
import { reconciliationRoutes } from '../reconciliation/routes.ts';
import { answerSerializer, refuseUndocumentedSuccess } from './answer-serializer.ts';
import { auditRoutes } from './audit-routes.ts';
import { answerClientError, installErrorHandler, sendProblem } from './errors.ts';
import { type HealthDeps, healthRoutes } from './health-routes.ts';
import type { Metrics } from './metrics.ts';
import { refuseNulCharacters } from './nul-guard.ts';
import { productComponents, productRoutesOnly } from './openapi.ts';
import { requestIdOf } from './request-id.ts';

/** The services the API and the portal act through; routes never reach the database themselves. */
export interface AppServices {
  apiKeys: ApiKeys;
  users: Users;
  audit: AuditLog;
  accounts: CarrierAccounts;
  billing: BillingConnections;
  catalogs: BillingCatalogs;
  bulkChanges: BulkChanges;
  approvalPolicies: ApprovalPolicies;
  webhooks: Webhooks;
  notificationSettings: NotificationSettings;
  eventFeed: EventFeed;
  devices: Devices;
  sites: Sites;
  callbacks: CallbackIngress;
  /** The carriers of this build: the portal offers each account's change types from it. */
  registry: CarrierRegistry;
  /** Carrier calls and circuit states seen by this process, for the portal's health charts. */
  accountHealth: AccountHealth;
  /** Queues a read of the account's lines from its carrier. */
  requestInventorySync: CarrierAccountRoutesOptions['requestInventorySync'];
  /** Three-way reconciliations of carrier accounts and their fixes. */
  reconciliations: Reconciliations;
}

/** How long the server waits for a request's parts (slow senders must not hold connections). */
export interface HttpTimeouts {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Small bodies: carrier callbacks and portal forms. */
  bodyTimeoutMs: number;
}

export interface AppDeps extends AppServices, Pick<HealthDeps, 'notReadyBecause' | 'beforeScrape'> {
  /** For `/readyz` only: whether the database answers. */
  db: Db;
  metrics: Metrics;
  logger: Logger;
  maxUploadBytes: number;
  timeouts: HttpTimeouts;
  /** Failed authentication attempts allowed per client address and per key prefix, per minute. */
  authFailuresPerMinute: number;
  /** Which proxies may tell the client's address and protocol (Fastify's `trustProxy`). */
  trustProxy: boolean | number | string[];
  /** The URL the service is reached at, when configured: an https one makes every cookie `Secure`. */
  publicUrl: string | undefined;
  /** Portal sessions kept at most, and how long each lives. */
  sessionLimits: SessionLimits;
  /** What is done with a JSON answer and its route's documented schema (ADR 0058). */
  answerCheck: AnswerCheck;
}

/** Trusts the nearest `hops` proxies (Fastify's own reading of a number, which its types do not list). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** Keys (addresses, key prefixes) the attempt throttle remembers at most; the oldest go first. */
const THROTTLE_KEYS = 10_000;

/** Every JSON body but an upload is small: accounts, catalogs (10,000 entries), forms. */
const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** The HTTP API of API.md, with its OpenAPI document. Simulators and the portal mount beside it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request would drown the engine's logs; /metrics counts requests instead.
    // Every line a request logs names it (`requestId`), and its answer says it (`x-request-id`).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    requestIdHeader: false,
    // Uploads raise it on their own routes (POST /bulk-changes, the portal's upload).
    bodyLimit: Math.min(DEFAULT_BODY_LIMIT_BYTES, deps.maxUploadBytes),
    // Progress streams stay open until their bulk change ends; closing must not wait for them.
    forceCloseConnections: true,
    trustProxy: typeof deps.trustProxy === 'number' ? trustHops(deps.trustProxy) : deps.trustProxy,
    requestTimeout: deps.timeouts.requestTimeoutMs,
    keepAliveTimeout: deps.timeouts.keepAliveTimeoutMs,
    ajv: { customOptions: { coerceTypes: false } },
    // A malformed URL or an over-long parameter: the same error shape as every other answer.
    frameworkErrors: (error, request, reply) => sendProblem(request, reply, error),
    // Malformed HTTP, oversized headers, a request timeout: there is no request to reply to.
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();
  app.server.headersTimeout = deps.timeouts.headersTimeoutMs;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(answerSerializer(deps.answerCheck));
  if (deps.answerCheck === 'strict') refuseUndocumentedSuccess(app);
  installErrorHandler(app);
  refuseNulCharacters(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
    });
  });

  // Only failed authentication is throttled (ADR 0012), by hand where it happens: no global limit.
  await app.register(rateLimit, { global: false, cache: THROTTLE_KEYS });
  const throttle = attemptThrottle(app, { failuresPerMinute: deps.authFailuresPerMinute });
  const auth = { keys: deps.apiKeys, throttle };
  const activationTemplates = new ActivationWorkbookTemplates({
    accounts: deps.accounts,
    catalogs: deps.catalogs,
    registry: deps.registry,
  });

  await app.register(multipart);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'bulkchange',
        version: '1',
        description:
          'Change thousands of IoT / M2M SIM lines at once across carriers. Every error answers {"error": {code, message, details}}; the codes are listed in docs/errors.md of the source. The carrier simulators of the demo are not part of this API (docs/operations.md).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: productRoutesOnly,
    // Schemas with an id (`.meta({ id })`: a bulk change, a row, …) are components, referred to by `$ref`.
    transformObject: productComponents,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, {
    db: deps.db,
    metrics: deps.metrics,
    notReadyBecause: deps.notReadyBecause,
    beforeScrape: deps.beforeScrape,
  });
  await app.register(
    async (api) => {
      await api.register(carrierAccountRoutes, {
        auth,
        accounts: deps.accounts,
        requestInventorySync: deps.requestInventorySync,
      });
      await api.register(apiKeyRoutes, { auth });
      await api.register(userRoutes, { auth, users: deps.users });
      await api.register(deviceRoutes, { auth, devices: deps.devices });
      await api.register(selectionExportRoutes, {
        auth,
        bulkChanges: deps.bulkChanges,
        devices: deps.devices,
      });
      await api.register(siteRoutes, { auth, sites: deps.sites });
      await api.register(auditRoutes, { auth, audit: deps.audit });
      await api.register(notificationRoutes, {
        auth,
        webhooks: deps.webhooks,
        settings: deps.notificationSettings,
        feed: deps.eventFeed,
      });
      await api.register(billingRoutes, { auth, billing: deps.billing, catalogs: deps.catalogs });
      await api.register(approvalPolicyRoutes, { auth, approvalPolicies: deps.approvalPolicies });
      await api.register(bulkChangeRoutes, {
        auth,
        bulkChanges: deps.bulkChanges,
        activationTemplates,
        maxUploadBytes: deps.maxUploadBytes,
      });
      await api.register(reconciliationRoutes, {
        auth,
        accounts: deps.accounts,
        reconciliations: deps.reconciliations,
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(portalPlugin, {
    prefix: '/portal',
    apiKeys: deps.apiKeys,
    users: deps.users,
    throttle,
    publicUrl: deps.publicUrl,
    sessionLimits: deps.sessionLimits,
    accounts: deps.accounts,
    catalogs: deps.catalogs,
    bulkChanges: deps.bulkChanges,
    approvalPolicies: deps.approvalPolicies,
    activationTemplates,
    devices: deps.devices,
    sites: deps.sites,
    webhooks: deps.webhooks,
    notificationSettings: deps.notificationSettings,
    health: deps.accountHealth,
    requestInventorySync: deps.requestInventorySync,
    registry: deps.registry,
    reconciliations: deps.reconciliations,
    maxUploadBytes: deps.maxUploadBytes,
    bodyTimeoutMs: deps.timeouts.bodyTimeoutMs,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/portal/overview'));
  await app.register(callbackRoutes, {
    prefix: '/callbacks',
    ingress: deps.callbacks,
    throttle,
    bodyTimeoutMs: deps.timeouts.bodyTimeoutMs,
  });
  return app;
}
