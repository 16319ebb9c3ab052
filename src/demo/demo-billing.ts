import type { FastifyInstance } from 'fastify';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { systemActor } from '../audit/actor.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import { billingRepository, type CatalogRow } from '../billing/billing-repository.ts';
import { createRevioSimulator, revioCustomers } from '../billing/revio/simulator/simulator.ts';
import type { Executor } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { simulatorPath } from './demo-accounts.ts';

/** The demo's billing system: a Rev.io simulator mounted beside the carriers (DESIGN §9). */
export const DEMO_BILLING_KEY = 'revio';

/** Rev.io provider ids per carrier, as the simulator's provider list has them. */
const providerIds = { telegence: 1, thingspace: 2, jasper: 3, pond: 4, teal: 5 };

export const demoCustomerRatePlans = [
  { id: 'CRP-IOT-1', name: 'IoT 1 GB — $4/month', dataMb: 1024, monthlyRate: 4 },
  { id: 'CRP-IOT-5', name: 'IoT 5 GB — $12/month', dataMb: 5120, monthlyRate: 12 },
  { id: 'CRP-MOB-UNL', name: 'Mobility unlimited — $30/month', dataMb: null, monthlyRate: 30 },
];
export const demoCustomerPools = [
  { id: 'POOL-FLEET', name: 'Fleet shared pool (50 GB)', dataMb: 51_200, monthlyRate: null },
  { id: 'POOL-METERS', name: 'Meters shared pool (5 GB)', dataMb: 5_120, monthlyRate: null },
];

export async function mountDemoBilling(app: FastifyInstance): Promise<void> {
  await app.register(createRevioSimulator({ faults: { rateLimitPerSecond: 30, maxConcurrent: 8 } }).plugin, {
    prefix: simulatorPath(DEMO_BILLING_KEY),
  });
}

const catalogRows = (
  tenantId: string,
  entries: Array<
    Omit<CatalogRow, 'tenant_id' | 'status' | 'data_mb' | 'monthly_rate'> & {
      dataMb: number | null;
      monthlyRate: number | null;
    }
  >,
) =>
  entries.map((entry) => ({
    tenant_id: tenantId,
    id: entry.id,
    name: entry.name,
    status: 'active',
    data_mb: entry.dataMb,
    monthly_rate: entry.monthlyRate,
  }));

/** First start: the billing catalogs (customers as Rev.io has them, plans and pools). */
export async function seedDemoBilling(db: Executor, tenantId: string): Promise<void> {
  const billing = billingRepository(db);
  await billing.upsertCatalog(
    'billing_customers',
    revioCustomers.map((customer) => ({
      tenant_id: tenantId,
      id: String(customer.customer_id),
      name: customer.name,
      status: customer.status === 'ACTIVE' ? 'active' : 'closed',
      data_mb: null,
      monthly_rate: null,
    })),
  );
  await billing.upsertCatalog('customer_rate_plans', catalogRows(tenantId, demoCustomerRatePlans));
  await billing.upsertCatalog('customer_pools', catalogRows(tenantId, demoCustomerPools));
}

/**
 * Every start: the billing connection points at this address, and the simulator is loaded with the
 * services the inventory says lines have (the simulator keeps nothing across restarts).
 */
export async function connectDemoBilling(options: {
  app: FastifyInstance;
  db: Executor;
  billing: BillingConnections;
  tenantId: string;
  baseUrl: string;
}): Promise<void> {
  await options.billing.save(
    options.tenantId,
    {
      system: 'revio',
      baseUrl: `${options.baseUrl}${simulatorPath(DEMO_BILLING_KEY)}`,
      credentials: {
        username: 'demo@bulkchange',
        password: 'demo-rev-password',
        subscriptionKey: 'demo-subscription-key',
      },
      writeEnabled: true,
      settings: { providerIds, limits: { requestsPerSecond: 25, maxConcurrent: 8 } },
    },
    systemActor('demo'),
  );
  const billed = await devicesRepository(options.db).listBilled(options.tenantId);
  const accounts = await carrierAccountsRepository(options.db).list(options.tenantId);
  const carrierOf = new Map(
    accounts.map((account) => [account.id, account.carrier as keyof typeof providerIds]),
  );
  const services = billed.map((line) => ({
    id: Number(line.billingServiceId),
    customerId: Number(line.billingCustomerId),
    providerId: providerIds[carrierOf.get(line.carrierAccountId) ?? 'jasper'],
    number: line.msisdn ?? line.iccid,
    number2: line.iccid,
  }));
  if (services.length === 0) return;
  const response = await options.app.inject({
    method: 'POST',
    url: `${simulatorPath(DEMO_BILLING_KEY)}/_sim/devices`,
    payload: services,
  });
  if (response.statusCode >= 300) throw new Error(`Loading the Rev.io simulator failed: ${response.body}`);
}
