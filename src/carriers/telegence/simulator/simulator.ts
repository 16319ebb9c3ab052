import { z } from 'zod';
import { adminValidationError } from '../../simulator-kit/admin-errors.ts';
import { CarrierFaults } from '../../simulator-kit/carrier-faults.ts';
import type { AdminRoute, CarrierRoute, SimRequest, SimResponse } from '../../simulator-kit/definition.ts';
import type { Faults } from '../../simulator-kit/faults.ts';
import { Scheduler } from '../../simulator-kit/scheduler.ts';
import { createSimulatorServer, type SimulatorServer } from '../../simulator-kit/simulator.ts';
import { ActivationEngine, activationSims } from './activations.ts';
import { appRefusal } from './auth.ts';
import {
  BillingAccounts,
  billingAccountSchema,
  type TelegenceBillingAccount,
  type TelegenceCatalog,
  type TelegenceRatePlan,
  telegenceBillingAccounts,
  telegenceFeatureCodes,
  telegenceRatePlans,
} from './catalog.ts';
import { telegenceError, telegenceFailureEnvelope } from './errors.ts';
import {
  type TelegenceFaults,
  telegenceDefaultCarrierFaults,
  telegenceDefaultFaults,
  telegenceFaultsPatchSchema,
} from './faults.ts';
import { IpPool } from './ip-pool.ts';
import { IpProvisioning } from './ip-provisioning.ts';
import { updatedSims, updateLine } from './line-updates.ts';
import {
  createSeedSchema,
  lineDetail,
  seededLine,
  TelegenceLineStore,
  type TelegenceSeed,
  type TelegenceSimLine,
} from './lines.ts';

export { telegenceMaxActivationsPerRequest } from './activations.ts';
export {
  type TelegenceBillingAccount,
  type TelegenceRatePlan,
  telegenceBillingAccounts,
  telegenceEsimOnlyTacs,
  telegenceFeatureCodes,
  telegenceRatePlans,
  telegenceReasonCodes,
} from './catalog.ts';
export {
  type TelegenceFaults,
  telegenceDefaultCarrierFaults,
  telegenceDefaultFaults,
} from './faults.ts';
export { telegenceMaxIpQuantity } from './ip-pool.ts';
export { telegenceMaxIpSubscribersPerRequest } from './ip-provisioning.ts';
export { telegenceMaxEffectiveDaysAhead } from './line-updates.ts';
export type { TelegenceLineState, TelegenceSimLine } from './lines.ts';

export interface TelegenceSimulatorOptions {
  /** app-id → app-secret. */
  apps?: Record<string, string>;
  /** Over the defaults: the kit's faults and Telegence's own. */
  faults?: Partial<Faults & TelegenceFaults>;
  ratePlans?: TelegenceRatePlan[];
  featureCodes?: string[];
  billingAccounts?: TelegenceBillingAccount[];
}

export const telegenceDefaultApps: Record<string, string> = { 'demo-app': 'demo-app-secret' };

/** AMOP pages the line list by 250, the most the service gives. */
const maxListPageSize = 250;
const lineConfig = '/sp/mobility/lineconfig/api/v1/service/:subscriberNumber';
const activations = '/sp/mobility/serviceactivation/api/v1/activations';
const ipAddress = '/sp/mobility/ipaddress/api/v1';

const pagingSchema = z.object({
  'current-page': z.coerce.number().int().min(1).default(1),
  'page-size': z.coerce.number().int().min(1).max(maxListPageSize).default(maxListPageSize),
});

/**
 * AT&T Telegence (APEX Mobility line config, service activation, billing account and static IP APIs,
 * carrier-apis §3): `app-id` / `app-secret` auth, batched activations that finish on timers, atomic line
 * updates with reason codes, and IP reservation → provisioning → status. Background work runs on unref'd
 * timers that a reset or close clears.
 */
export const createTelegenceSimulator = (
  options: TelegenceSimulatorOptions = {},
): SimulatorServer<TelegenceSimLine> => {
  const apps = options.apps ?? telegenceDefaultApps;
  const { activationStepMs, ipProvisionMs, ipPoolSize, esimOnlyTacs, rejectIccids, ...kitFaults } = {
    ...telegenceDefaultFaults,
    ...telegenceDefaultCarrierFaults,
    ...options.faults,
  };
  const carrierFaults = new CarrierFaults<TelegenceFaults>(
    { activationStepMs, ipProvisionMs, ipPoolSize, esimOnlyTacs, rejectIccids },
    telegenceFaultsPatchSchema,
  );
  const faults = () => carrierFaults.get();
  const catalog: TelegenceCatalog = {
    ratePlans: new Map((options.ratePlans ?? telegenceRatePlans).map((plan) => [plan.code, plan])),
    features: new Set(options.featureCodes ?? telegenceFeatureCodes),
    accounts: new BillingAccounts(options.billingAccounts ?? telegenceBillingAccounts),
  };
  const store = new TelegenceLineStore();
  const scheduler = new Scheduler(Date.now, true);
  const engine = new ActivationEngine({ store, catalog, scheduler, faults });
  const pool = new IpPool(store, () => carrierFaults.get().ipPoolSize);
  const provisioning = new IpProvisioning({ store, pool, scheduler, faults });

  const authenticated =
    (handle: (request: SimRequest) => SimResponse) =>
    (request: SimRequest): SimResponse =>
      appRefusal(apps, request.headers) ?? handle(request);
  const lineSims = (request: SimRequest) => {
    const line = store.byNumber(request.params.subscriberNumber);
    return line === undefined ? [] : [line.iccid];
  };

  const routes: CarrierRoute[] = [
    {
      method: 'POST',
      url: activations,
      action: 'activate',
      iccids: (request) => activationSims(request.body),
      handle: authenticated((request) => engine.submit(request.body)),
    },
    {
      method: 'GET',
      url: `${activations}/:id`,
      action: 'activation_status',
      iccids: (request) => engine.simsOf(request.params.id),
      handle: authenticated((request) => engine.status(request.params.id)),
    },
    {
      method: 'GET',
      url: lineConfig,
      action: 'get_line',
      iccids: lineSims,
      handle: authenticated((request) => {
        const line = store.byNumber(request.params.subscriberNumber);
        return line === undefined
          ? telegenceError(404, 'Subscriber not found')
          : { status: 200, body: lineDetail(line, catalog, Date.now()) };
      }),
    },
    {
      method: 'PATCH',
      url: lineConfig,
      action: 'update_line',
      iccids: (request) => updatedSims(store, request.params.subscriberNumber, request.body),
      handle: authenticated((request) =>
        updateLine(
          { store, catalog, faults, simClaimed: (iccid) => engine.claims(iccid) },
          request.params.subscriberNumber,
          request.body,
          Date.now(),
        ),
      ),
    },
    {
      method: 'GET',
      url: '/billingaccounts/:ban',
      action: 'billing_account',
      iccids: () => [],
      handle: authenticated((request) => {
        const account = catalog.accounts.get(request.params.ban);
        return account === undefined
          ? telegenceError(404, 'Billing account not found')
          : {
              status: 200,
              body: {
                id: account.ban,
                status: account.status,
                foundationAccountNumber: account.fan,
                billCycleDay: account.billCycleDay,
                name: account.name,
              },
            };
      }),
    },
    {
      method: 'GET',
      url: '/sp/mobility/api/v1/account',
      action: 'list_lines',
      iccids: () => [],
      handle: authenticated((request) => listLines(request)),
    },
    {
      method: 'POST',
      url: `${ipAddress}/reservations`,
      action: 'reserve_ips',
      iccids: () => [],
      handle: authenticated((request) => pool.reserve(request.body)),
    },
    {
      method: 'POST',
      url: `${ipAddress}/provisioning`,
      action: 'provision_ips',
      iccids: (request) => provisioning.submittedSims(request.body),
      handle: authenticated((request) => provisioning.submit(request.body)),
    },
    {
      method: 'GET',
      url: `${ipAddress}/provisioning/status`,
      action: 'ip_status',
      iccids: (request) => provisioning.statusSims(request.headers),
      handle: authenticated((request) => provisioning.status(request.headers)),
    },
  ];

  /** Paged by request headers; the number of pages comes back in the `page-total` header. */
  function listLines(request: SimRequest): SimResponse {
    const paging = pagingSchema.safeParse(request.headers);
    if (!paging.success) {
      return telegenceError(400, `Invalid paging headers: ${paging.error.issues[0].path.join('.')}`);
    }
    const { 'current-page': page, 'page-size': size } = paging.data;
    const lines = store.list().sort((a, b) => a.msisdn.localeCompare(b.msisdn));
    const now = Date.now();
    return {
      status: 200,
      headers: { 'page-total': String(Math.max(1, Math.ceil(lines.length / size))) },
      body: lines.slice((page - 1) * size, page * size).map((line) => lineDetail(line, catalog, now)),
    };
  }

  const adminRoutes: AdminRoute[] = [
    {
      method: 'POST',
      url: '/billing-accounts',
      handle: (request) => {
        const accounts = z.array(billingAccountSchema).safeParse(request.body);
        if (!accounts.success) return adminValidationError(accounts.error);
        const created = accounts.data.filter((account) => catalog.accounts.upsert(account)).length;
        return { status: 200, body: { created, updated: accounts.data.length - created } };
      },
    },
    { method: 'GET', url: '/activations', handle: () => ({ status: 200, body: engine.list() }) },
    { method: 'GET', url: '/ip-pool', handle: () => ({ status: 200, body: pool.summary() }) },
  ];

  return createSimulatorServer({
    store,
    routes,
    defaultFaults: kitFaults,
    seedSchema: createSeedSchema(catalog, store),
    fromSeed: (seed: TelegenceSeed, existing) => seededLine(seed, existing, catalog, Date.now()),
    errorEnvelope: telegenceFailureEnvelope,
    adminRoutes,
    extraFaults: carrierFaults.extension(),
    onReset: () => {
      scheduler.clear();
      engine.reset();
      provisioning.reset();
      pool.reset();
      catalog.accounts.reset();
    },
    onClose: () => scheduler.clear(),
  });
};
