import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ApiKeys } from '../accounts/api-keys.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountRoutes } from '../accounts/routes.ts';
import type { BillingCatalogs } from '../billing/billing-catalogs.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import { billingRoutes } from '../billing/routes.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import { bulkChangeRoutes } from '../bulk-changes/routes.ts';
import type { CallbackIngress } from '../callbacks/callback-ingress.ts';
import { callbackRoutes } from '../callbacks/routes.ts';
import type { AccountHealth } from '../carriers/account-health.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import type { Db } from '../db/database.ts';
import type { Devices } from '../devices/devices-service.ts';
import { deviceRoutes } from '../devices/routes.ts';
import { portalPlugin } from '../portal/plugin.ts';
import { installErrorHandler } from './errors.ts';
import { type HealthDeps, healthRoutes } from './health-routes.ts';
import type { Metrics } from './metrics.ts';

/** The services the API and the portal act through; routes never reach the database themselves. */
export interface AppServices {
  apiKeys: ApiKeys;
  accounts: CarrierAccounts;
  billing: BillingConnections;
  catalogs: BillingCatalogs;
  bulkChanges: BulkChanges;
  devices: Devices;
  callbacks: CallbackIngress;
  /** The carriers of this build: the portal offers each account's change types from it. */
  registry: CarrierRegistry;
  /** Carrier calls and circuit states seen by this process, for the portal's health charts. */
  accountHealth: AccountHealth;
  /** Queues a read of the account's lines from its carrier. */
  requestInventorySync: (carrierAccountId: string) => Promise<void>;
}

export interface AppDeps extends AppServices, Pick<HealthDeps, 'notReadyBecause' | 'beforeScrape'> {
  /** For `/readyz` only: whether the database answers. */
  db: Db;
  metrics: Metrics;
  logger: Logger;
  maxUploadBytes: number;
}

/** The HTTP API of API.md, with its OpenAPI document. Simulators and the portal mount beside it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request would drown the engine's logs; /metrics counts requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxUploadBytes,
    // Progress streams stay open until their bulk change ends; closing must not wait for them.
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: false } },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
    });
  });

  await app.register(multipart);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'bulkchange',
        version: '1',
        description: 'Change thousands of IoT / M2M SIM lines at once across carriers. See API.md.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
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
      const { apiKeys } = deps;
      await api.register(carrierAccountRoutes, {
        apiKeys,
        accounts: deps.accounts,
        requestInventorySync: deps.requestInventorySync,
      });
      await api.register(deviceRoutes, { apiKeys, devices: deps.devices });
      await api.register(billingRoutes, { apiKeys, billing: deps.billing, catalogs: deps.catalogs });
      await api.register(bulkChangeRoutes, {
        apiKeys,
        bulkChanges: deps.bulkChanges,
        maxUploadBytes: deps.maxUploadBytes,
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(portalPlugin, {
    prefix: '/portal',
    apiKeys: deps.apiKeys,
    accounts: deps.accounts,
    bulkChanges: deps.bulkChanges,
    devices: deps.devices,
    health: deps.accountHealth,
    registry: deps.registry,
    maxUploadBytes: deps.maxUploadBytes,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/portal/bulk-changes'));
  await app.register(callbackRoutes, { prefix: '/callbacks', ingress: deps.callbacks });
  return app;
}
