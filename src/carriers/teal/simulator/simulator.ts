import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminError, adminValidationError } from '../../simulator-kit/admin-errors.ts';
import { CarrierFaults } from '../../simulator-kit/carrier-faults.ts';
import type { AdminRoute, CarrierRoute, SimRequest, SimResponse } from '../../simulator-kit/definition.ts';
import type { Faults } from '../../simulator-kit/faults.ts';
import { createSimulatorServer, type SimulatorServer } from '../../simulator-kit/simulator.ts';
import {
  consumptionSeedSchema,
  createConsumptionQuerySchema,
  TealConsumptionStore,
} from './data-consumption.ts';
import {
  createSeedSchema,
  esimView,
  seededEsim,
  TealEsimStore,
  type TealSeed,
  type TealSimEsim,
} from './esims.ts';
import { type TealFaults, tealDefaultOperationFaults, tealFaultsPatchSchema } from './faults.ts';
import { RequestIdLedger } from './idempotency.ts';
import { OperationEngine, type TealAction, type TealOperationEntry } from './operations.ts';

export type { TealConsumptionEntry, TealConsumptionSeed } from './data-consumption.ts';
export { type TealSimEsim, type TealState, tealStates } from './esims.ts';
export { type TealFaults, tealDefaultOperationFaults } from './faults.ts';
export type { TealAction, TealEntryResult, TealOperation } from './operations.ts';

export interface TealPlan {
  uuid: string;
  name: string;
  dataMb: number;
}

export interface TealSimulatorOptions {
  /** API key (header `ApiKey`) → its secret (header `ApiSecret`). */
  apps?: Record<string, string>;
  /** Over `tealDefaultFaults` and `tealDefaultOperationFaults`. */
  faults?: Partial<Faults & TealFaults>;
  plans?: TealPlan[];
}

export const tealDefaultApps: Record<string, string> = { 'demo-teal-key': 'demo-teal-secret' };

/** Teal documents no limits beside the page size (carrier-apis §7); these keep clients honest. */
export const tealDefaultFaults: Partial<Faults> = { rateLimitPerSecond: 10, maxConcurrent: 4 };

/** Fixed UUIDs, so that tests, the demo and its example files can name them. */
export const tealPlans: TealPlan[] = [
  { uuid: '5b0c6a52-3f7e-4d1a-9c2b-1e8f4a6d0001', name: 'Teal Global 100 MB', dataMb: 100 },
  { uuid: '5b0c6a52-3f7e-4d1a-9c2b-1e8f4a6d0002', name: 'Teal Global 1 GB', dataMb: 1024 },
  { uuid: '5b0c6a52-3f7e-4d1a-9c2b-1e8f4a6d0003', name: 'Teal Global 5 GB', dataMb: 5120 },
  { uuid: '5b0c6a52-3f7e-4d1a-9c2b-1e8f4a6d0004', name: 'Teal Global 20 GB', dataMb: 20480 },
];

/** Documented by AMOP: list calls take at most 100; the simulator holds writes to the same bound. */
export const tealMaxPageSize = 100;
export const tealMaxEntries = 100;

const api = '/api/v1';

const requestIdSchema = z.string().min(1).max(100);
const listQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(tealMaxPageSize).default(tealMaxPageSize),
});
const consumptionQuerySchema = createConsumptionQuerySchema(tealMaxPageSize);
const eidEntriesSchema = z.object({ entries: z.array(z.string().min(1)).min(1).max(tealMaxEntries) });
const planEntriesSchema = z.object({
  entries: z
    .array(z.object({ eid: z.string().min(1), planUuid: z.string().min(1) }))
    .min(1)
    .max(tealMaxEntries),
});
const namedEntrySchema = z.union([z.string(), z.object({ eid: z.string() })]);

type Handle = (request: SimRequest) => SimResponse;

/**
 * Teal's integration API (carrier-apis §5): eSIMs keyed by EID, `ApiKey` / `ApiSecret` headers, a
 * client `requestId` on every call, and asynchronous writes whose per-entry results are read from the
 * operation they return. Credentials are checked after the kit's fault gate, as a gateway throttles
 * before it looks at them.
 *
 * An accepted write answers `link.operationResultLink.href` = `http://<Host header><mount prefix>` +
 * `/api/v1/operations/<operationId>`, without a query: the prefix is where the plugin was mounted (e.g.
 * `/simulators/teal`), empty when standalone; the client adds its own `requestId` to read it.
 */
export const createTealSimulator = (options: TealSimulatorOptions = {}): SimulatorServer<TealSimEsim> => {
  const apps = options.apps ?? tealDefaultApps;
  const plans = options.plans ?? tealPlans;
  const planUuids = new Set(plans.map((plan) => plan.uuid));
  const { operationMs, failEids, lostOperations, ...kitFaults } = {
    ...tealDefaultFaults,
    ...tealDefaultOperationFaults,
    ...options.faults,
  };
  const faults = new CarrierFaults<TealFaults>(
    { operationMs, failEids, lostOperations },
    tealFaultsPatchSchema,
  );
  const store = new TealEsimStore();
  const engine = new OperationEngine({ store, planUuids, faults: () => faults.get() });
  const ledger = new RequestIdLedger();
  const consumption = new TealConsumptionStore();
  let mountPrefix = '';

  /** Every route: credentials, then the `requestId` every Teal call carries. */
  const guarded =
    (handle: (request: SimRequest, requestId: string) => SimResponse): Handle =>
    (request) => {
      const refusal = authenticate(apps, request);
      if (refusal !== undefined) return refusal;
      const requestId = requestIdSchema.safeParse(request.query.get('requestId'));
      if (!requestId.success) return tealError(400, 'requestId is required (1 to 100 characters)');
      return handle(request, requestId.data);
    };

  const accepted = (request: SimRequest, operationId: string): SimResponse => {
    const path = `${mountPrefix}${api}/operations/${operationId}`;
    const { host } = request.headers;
    const href = host === undefined ? path : `http://${host}${path}`;
    return { status: 202, body: { success: true, link: { operationResultLink: { href } } } };
  };

  const write = <S extends z.ZodType>(
    name: string,
    action: TealAction,
    schema: S,
    entriesOf: (body: z.infer<S>) => TealOperationEntry[],
  ): CarrierRoute => {
    const url = `${api}/esims/${name}`;
    return {
      method: 'POST',
      url,
      action,
      iccids: (request) => store.iccidsOf(namedEids(request.body)),
      handle: guarded((request, requestId) => {
        const body = schema.safeParse(request.body);
        if (!body.success) return badRequest(body.error);
        const answer = ledger.once(url, requestId, body.data, () =>
          accepted(request, engine.start(action, requestId, entriesOf(body.data)).operationId),
        );
        return answer === 'conflict'
          ? tealError(409, `requestId ${requestId} was already used with a different body`)
          : answer;
      }),
    };
  };

  const listEsims = (request: SimRequest): SimResponse => {
    const query = listQuerySchema.safeParse(Object.fromEntries(request.query));
    if (!query.success) return badRequest(query.error);
    const { offset, limit } = query.data;
    const eids = [...new Set(request.query.getAll('eid'))];
    const matching = eids.length === 0 ? store.list() : eids.flatMap((eid) => store.byEid(eid) ?? []);
    matching.sort((a, b) => (a.eid < b.eid ? -1 : a.eid > b.eid ? 1 : 0));
    const entries = matching.slice(offset, offset + limit).map(esimView);
    return { status: 200, body: { success: true, entries, total: matching.length } };
  };

  /** Data used per eSIM and period (day or month), the eSIMs in EID order, at most 100 entries a page. */
  const dataConsumption = (request: SimRequest): SimResponse => {
    const query = consumptionQuerySchema.safeParse(Object.fromEntries(request.query));
    if (!query.success) return badRequest(query.error);
    const { offset, limit, ...period } = query.data;
    const report = consumption.report(period);
    const entries = report.slice(offset, offset + limit);
    return { status: 200, body: { success: true, entries, total: report.length } };
  };

  const routes: CarrierRoute[] = [
    {
      method: 'GET',
      url: `${api}/esims`,
      action: 'list_esims',
      iccids: (request) => store.iccidsOf(request.query.getAll('eid')),
      handle: guarded(listEsims),
    },
    {
      method: 'GET',
      url: `${api}/plans`,
      action: 'list_plans',
      iccids: () => [],
      handle: guarded(() => ({ status: 200, body: { success: true, entries: plans } })),
    },
    {
      method: 'GET',
      url: `${api}/data-consumption/data`,
      action: 'data_consumption',
      iccids: () => [],
      handle: guarded(dataConsumption),
    },
    write('enable', 'enable', eidEntriesSchema, (body) => body.entries.map((eid) => ({ eid }))),
    write('disable', 'disable', eidEntriesSchema, (body) => body.entries.map((eid) => ({ eid }))),
    write('assign-plan', 'assign_plan', planEntriesSchema, (body) => body.entries),
    {
      method: 'GET',
      url: `${api}/operations/:operationId`,
      action: 'operation_result',
      iccids: (request) =>
        store.iccidsOf(engine.get(request.params.operationId)?.entries.map(({ eid }) => eid) ?? []),
      handle: guarded((request) => {
        const operation = engine.get(request.params.operationId);
        if (operation === undefined) {
          return tealError(404, `Operation ${request.params.operationId} not found`);
        }
        const { status, results } = operation;
        return { status: 200, body: { success: true, status, entries: results } };
      }),
    },
  ];

  const adminRoutes: AdminRoute[] = [
    { method: 'GET', url: '/operations', handle: () => ({ status: 200, body: engine.list() }) },
    {
      method: 'POST',
      url: '/data-consumption',
      handle: (request) => {
        const seeds = consumptionSeedSchema.safeParse(request.body);
        if (!seeds.success) return adminValidationError(seeds.error);
        const unknown = seeds.data.find(({ eid }) => store.byEid(eid) === undefined);
        if (unknown !== undefined) return adminError(404, 'NOT_FOUND', `No eSIM has EID ${unknown.eid}`);
        consumption.record(seeds.data);
        return { status: 200, body: { recorded: seeds.data.length } };
      },
    },
    { method: 'GET', url: '/data-consumption', handle: () => ({ status: 200, body: consumption.list() }) },
  ];

  const kit = createSimulatorServer({
    store,
    routes,
    defaultFaults: kitFaults,
    seedSchema: createSeedSchema(store, planUuids),
    fromSeed: (seed: TealSeed, existing) => seededEsim(seed, existing, plans[0].uuid),
    errorEnvelope: (failure) => tealError(failure.status, failure.message).body,
    adminRoutes,
    extraFaults: faults.extension(),
    onReset: () => {
      engine.reset();
      ledger.clear();
      consumption.clear();
    },
    onClose: () => engine.reset(),
  });

  const plugin: FastifyPluginAsync = async (app, pluginOptions) => {
    // Operation links must lead back through the same mount, e.g. `/simulators/teal`.
    mountPrefix = app.prefix;
    await kit.plugin(app, pluginOptions);
  };
  return { ...kit, plugin };
};

const tealError = (status: number, errorMessage: string): SimResponse => ({
  status,
  body: { success: false, errorMessage },
});

const badRequest = (error: z.ZodError): SimResponse => {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return tealError(400, `${where}${issue.message}`);
};

const authenticate = (apps: Record<string, string>, request: SimRequest): SimResponse | undefined => {
  const { apikey, apisecret } = request.headers;
  const valid = typeof apikey === 'string' && Object.hasOwn(apps, apikey) && apps[apikey] === apisecret;
  return valid ? undefined : tealError(401, 'Invalid ApiKey or ApiSecret');
};

/** The EIDs a write names; copes with any body (the call log calls it for refused requests too). */
const namedEids = (body: unknown): string[] => {
  const entries = z.object({ entries: z.array(z.unknown()) }).safeParse(body);
  if (!entries.success) return [];
  return entries.data.entries.flatMap((entry) => {
    const named = namedEntrySchema.safeParse(entry);
    if (!named.success) return [];
    return typeof named.data === 'string' ? [named.data] : [named.data.eid];
  });
};
