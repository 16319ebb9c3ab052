import { z } from 'zod';
import type {
  CarrierRoute,
  SimFailureKind,
  SimRequest,
  SimResponse,
} from '../../simulator-kit/definition.ts';
import type { Faults } from '../../simulator-kit/faults.ts';
import { createSimulatorServer, type SimulatorServer } from '../../simulator-kit/simulator.ts';
import { OperationFailures, type PondFaults, type PondWrite } from './failures.ts';
import {
  createSeedSchema,
  deviceStatusView,
  deviceView,
  newPackage,
  PondLineStore,
  type PondSeed,
  type PondSimLine,
  packageView,
  seededLine,
  withPackages,
} from './lines.ts';
import { movePackage } from './packages.ts';

export type { PondFailRule, PondFaults } from './failures.ts';
export type { PondPackage, PondPackageStatus, PondSimLine } from './lines.ts';
export { pondPackageTransitions } from './packages.ts';

/** A carrier rate plan: a line holds packages of these types. */
export interface PondPackageType {
  packageTypeId: string;
  name: string;
  dataMb: number;
}

export interface PondSimulatorOptions {
  /** Distributor id (the first path segment) → its API key (header `x-api-key`). */
  distributors?: Record<string, string>;
  /** Over `pondDefaultFaults`: the kit's faults and POND's own `failOperations`. */
  faults?: Partial<Faults & PondFaults>;
  packageTypes?: PondPackageType[];
}

export const pondDefaultDistributors: Record<string, string> = { 'demo-distributor': 'demo-pond-key' };

/** POND documents no limits (carrier-apis §7); these keep clients honest. */
export const pondDefaultFaults: Partial<Faults> = { rateLimitPerSecond: 10, maxConcurrent: 5 };

export const pondPackageTypes: PondPackageType[] = [
  { packageTypeId: 'PT-100MB', name: 'Global 100 MB', dataMb: 100 },
  { packageTypeId: 'PT-1GB', name: 'Global 1 GB', dataMb: 1024 },
  { packageTypeId: 'PT-5GB', name: 'Global 5 GB', dataMb: 5120 },
  { packageTypeId: 'PT-10GB', name: 'Global 10 GB', dataMb: 10240 },
];

/** POND publishes no error codes; these are this simulator's own, stable so that clients can key on them. */
export const pondErrorCodes = {
  unauthorized: 'UNAUTHORIZED',
  distributorNotFound: 'DISTRIBUTOR_NOT_FOUND',
  deviceNotFound: 'DEVICE_NOT_FOUND',
  packageNotFound: 'PACKAGE_NOT_FOUND',
  unknownPackageType: 'UNKNOWN_PACKAGE_TYPE',
  invalidPackageTransition: 'INVALID_PACKAGE_TRANSITION',
  badRequest: 'BAD_REQUEST',
  notFound: 'NOT_FOUND',
  rateLimited: 'RATE_LIMITED',
  tooManyConcurrentRequests: 'TOO_MANY_CONCURRENT_REQUESTS',
  serviceUnavailable: 'SERVICE_UNAVAILABLE',
  internalError: 'INTERNAL_ERROR',
} as const;

/** Documented by AMOP: the default page size is 10. */
const defaultPageSize = 10;
const maxPageSize = 100;

const pageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  count: z.coerce.number().int().min(1).max(maxPageSize).default(defaultPageSize),
});
const addPackageSchema = z.object({ packageTypeId: z.string().min(1) });
const packageStatusSchema = z.object({ packageStatus: z.enum(['ACTIVE', 'TERMINATED']) });
const deviceStatusSchema = z.object({ enabled: z.boolean() });

type Handle = (request: SimRequest) => SimResponse;

/**
 * POND IoT (carrier-apis §4): every path under `/:distributorId`, an API key per distributor, packages
 * (rate plans) with their own lifecycle, and all-services enable / disable. The key is checked after the
 * kit's fault gate, as a gateway throttles before it looks at credentials.
 */
export const createPondSimulator = (options: PondSimulatorOptions = {}): SimulatorServer<PondSimLine> => {
  const distributors = options.distributors ?? pondDefaultDistributors;
  const packageTypes = options.packageTypes ?? pondPackageTypes;
  const packageTypeIds = new Set(packageTypes.map((type) => type.packageTypeId));
  const { failOperations = [], ...kitFaults } = { ...pondDefaultFaults, ...options.faults };
  const failures = new OperationFailures(failOperations);
  const store = new PondLineStore();

  const authorized =
    (handle: Handle): Handle =>
    (request) =>
      authenticate(distributors, request) ?? handle(request);
  /** The 500 of an injected `failOperations` rule, before anything is changed. */
  const failed = (write: PondWrite) =>
    failures.take(write) ? pondError(500, pondErrorCodes.internalError, 'Internal server error') : undefined;
  const withLine =
    (handle: (line: PondSimLine, request: SimRequest) => SimResponse): Handle =>
    (request) => {
      const line = store.get(request.params.iccid);
      return line === undefined ? deviceNotFound(request.params.iccid) : handle(line, request);
    };
  const iccidParam = (request: SimRequest) => [request.params.iccid];
  const packageLine = (request: SimRequest) => {
    const iccid = store.findPackage(request.params.packageId)?.line.iccid;
    return iccid === undefined ? [] : [iccid];
  };

  const addPackage = (line: PondSimLine, request: SimRequest): SimResponse => {
    const body = addPackageSchema.safeParse(request.body);
    if (!body.success) return badRequest(body.error);
    const { packageTypeId } = body.data;
    if (!packageTypeIds.has(packageTypeId)) {
      return pondError(
        400,
        pondErrorCodes.unknownPackageType,
        `Package type ${packageTypeId} does not exist`,
      );
    }
    const refusal = failed({ action: 'add_package', iccid: line.iccid });
    if (refusal !== undefined) return refusal;
    const added = newPackage(packageTypeId, nowIso());
    store.put(withPackages(line, [...line.packages, added]));
    return { status: 201, body: packageView(line.iccid, added) };
  };

  const setPackageStatus: Handle = (request) => {
    const body = packageStatusSchema.safeParse(request.body);
    if (!body.success) return badRequest(body.error);
    const { packageStatus } = body.data;
    const located = store.findPackage(request.params.packageId);
    if (located === undefined) {
      return pondError(404, pondErrorCodes.packageNotFound, `Package ${request.params.packageId} not found`);
    }
    const { line, found } = located;
    const refusal = failed({ action: 'set_package_status', iccid: line.iccid, packageStatus });
    if (refusal !== undefined) return refusal;
    const moved = movePackage(found, packageStatus, nowIso());
    if (moved === undefined) {
      return pondError(
        409,
        pondErrorCodes.invalidPackageTransition,
        `Package ${found.packageId} cannot go from ${found.status} to ${packageStatus}`,
      );
    }
    if (moved !== found) {
      store.put(
        withPackages(
          line,
          line.packages.map((p) => (p === found ? moved : p)),
        ),
      );
    }
    return { status: 200, body: packageView(line.iccid, moved) };
  };

  const setDeviceStatus = (line: PondSimLine, request: SimRequest): SimResponse => {
    const body = deviceStatusSchema.safeParse(request.body);
    if (!body.success) return badRequest(body.error);
    const refusal = failed({ action: 'set_device_status', iccid: line.iccid });
    if (refusal !== undefined) return refusal;
    const next: PondSimLine = { ...line, state: body.data.enabled ? 'ENABLED' : 'DISABLED' };
    store.put(next);
    return { status: 200, body: deviceStatusView(next) };
  };

  const packageStatusRoute = (method: 'POST' | 'PUT'): CarrierRoute => ({
    method,
    url: '/:distributorId/packages/:packageId/status',
    action: 'set_package_status',
    iccids: packageLine,
    handle: authorized(setPackageStatus),
  });

  const routes: CarrierRoute[] = [
    {
      method: 'GET',
      url: '/:distributorId/devices/:iccid',
      action: 'get_device',
      iccids: iccidParam,
      handle: authorized(withLine((line) => ({ status: 200, body: deviceView(line) }))),
    },
    {
      method: 'GET',
      url: '/:distributorId/devices',
      action: 'list_devices',
      iccids: () => [],
      handle: authorized((request) => {
        const lines = store.list().sort((a, b) => (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0));
        return page(request.query, lines, deviceView);
      }),
    },
    {
      method: 'GET',
      url: '/:distributorId/package-types',
      action: 'list_package_types',
      iccids: () => [],
      handle: authorized((request) => page(request.query, packageTypes, (type) => type)),
    },
    {
      method: 'GET',
      url: '/:distributorId/devices/:iccid/packages',
      action: 'list_packages',
      iccids: iccidParam,
      handle: authorized(
        withLine((line) => ({
          status: 200,
          body: {
            total: line.packages.length,
            items: line.packages.map((found) => packageView(line.iccid, found)),
          },
        })),
      ),
    },
    {
      method: 'POST',
      url: '/:distributorId/devices/:iccid/packages',
      action: 'add_package',
      iccids: iccidParam,
      handle: authorized(withLine(addPackage)),
    },
    // AMOP sends POST; the real API may want PUT (carrier-apis §4), so both are served.
    packageStatusRoute('POST'),
    packageStatusRoute('PUT'),
    {
      method: 'GET',
      url: '/:distributorId/devices/:iccid/status',
      action: 'get_device_status',
      iccids: iccidParam,
      handle: authorized(withLine((line) => ({ status: 200, body: deviceStatusView(line) }))),
    },
    {
      method: 'POST',
      url: '/:distributorId/devices/:iccid/status',
      action: 'set_device_status',
      iccids: iccidParam,
      handle: authorized(withLine(setDeviceStatus)),
    },
  ];

  return createSimulatorServer({
    store,
    routes,
    defaultFaults: kitFaults,
    seedSchema: createSeedSchema(packageTypeIds),
    fromSeed: (seed: PondSeed, existing) => seededLine(seed, existing, nowIso()),
    errorEnvelope: (failure) => ({ error: { code: failureCodes[failure.kind], message: failure.message } }),
    extraFaults: failures.extension(),
  });
};

const failureCodes: Record<SimFailureKind, string> = {
  outage: pondErrorCodes.serviceUnavailable,
  rate_limited: pondErrorCodes.rateLimited,
  too_many_concurrent: pondErrorCodes.tooManyConcurrentRequests,
  injected_error: pondErrorCodes.internalError,
  internal: pondErrorCodes.internalError,
  bad_request: pondErrorCodes.badRequest,
  not_found: pondErrorCodes.notFound,
};

const pondError = (status: number, code: string, message: string): SimResponse => ({
  status,
  body: { error: { code, message } },
});

const badRequest = (error: z.ZodError): SimResponse => {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return pondError(400, pondErrorCodes.badRequest, `${where}${issue.message}`);
};

const deviceNotFound = (iccid: string) =>
  pondError(404, pondErrorCodes.deviceNotFound, `Device ${iccid} not found`);

/** The distributor comes first: its key is the one to check. */
const authenticate = (distributors: Record<string, string>, request: SimRequest): SimResponse | undefined => {
  const { distributorId } = request.params;
  if (!Object.hasOwn(distributors, distributorId)) {
    return pondError(404, pondErrorCodes.distributorNotFound, `Distributor ${distributorId} not found`);
  }
  return request.headers['x-api-key'] === distributors[distributorId]
    ? undefined
    : pondError(401, pondErrorCodes.unauthorized, 'A valid x-api-key header is required');
};

/** `?offset=&count=` paging; the answer echoes the page asked for. */
const page = <T>(query: URLSearchParams, all: readonly T[], view: (item: T) => unknown): SimResponse => {
  const parsed = pageQuerySchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) return badRequest(parsed.error);
  const { offset, count } = parsed.data;
  const items = all.slice(offset, offset + count).map(view);
  return { status: 200, body: { total: all.length, offset, count, items } };
};

const nowIso = () => new Date().toISOString();
