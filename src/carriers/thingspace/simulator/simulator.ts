import { z } from 'zod';
import { sleep } from '../../../shared/time.ts';
import { REDACTED } from '../../http/redaction.ts';
import { adminError, adminValidationError } from '../../simulator-kit/admin-errors.ts';
import { CarrierFaults } from '../../simulator-kit/carrier-faults.ts';
import type { AdminRoute, CarrierRoute, SimRequest, SimResponse } from '../../simulator-kit/definition.ts';
import { DeviceStore } from '../../simulator-kit/device-store.ts';
import type { Faults } from '../../simulator-kit/faults.ts';
import { Scheduler, type WallClock } from '../../simulator-kit/scheduler.ts';
import { createSimulatorServer, type SimulatorServer } from '../../simulator-kit/simulator.ts';
import { callbackUrlProblem } from '../client.ts';
import { ThingSpaceAuth } from './auth.ts';
import { type CallbackDelivery, CallbackDispatcher, type CallbackFilter } from './callbacks.ts';
import {
  gatewayFault,
  m2mError,
  thingSpaceErrorCodes,
  thingSpaceFailureEnvelope,
  thingSpaceGatewayCodes,
} from './errors.ts';
import {
  createSeedSchema,
  type DeviceId,
  deviceIdsRefusal,
  LineFinder,
  lineDeviceIds,
  listedDevice,
  seededLine,
  type ThingSpaceSeed,
  type ThingSpaceSimLine,
} from './lines.ts';
import { type ActionParams, RequestEngine } from './requests.ts';
import { ActivateWindow, RuleBook } from './rules.ts';

export type { CallbackDelivery, CallbackFilter } from './callbacks.ts';
export { thingSpaceErrorCodes, thingSpaceGatewayCodes } from './errors.ts';
export type { ThingSpaceSimLine } from './lines.ts';
export type { ThingSpaceAction } from './requests.ts';
export { type ThingSpaceState, thingSpaceStates, thingSpaceTransitions } from './rules.ts';

export interface ThingSpaceServicePlan {
  name: string;
  /** What requests put in `servicePlan` (the name is accepted too). */
  code: string;
  sizeKb: number;
  carrierServicePlanCode: string;
}

/** ThingSpace's own faults, beside the kit's; `PUT /_sim/faults` takes them too. */
export interface ThingSpaceFaults {
  /** false: no CarrierService callback is sent (results stay readable through request status). */
  callbacks: boolean;
  /** Documented: 100 activate requests per minute; null = unlimited. Above it: 429 + Retry-After. */
  activateRequestsPerMinute: number | null;
  /** true: `POST /callbacks/{account}` is refused (an account not enabled for callbacks). */
  refuseCallbackRegistration: boolean;
}

export interface ThingSpaceSimulatorOptions {
  /** OAuth client id → secret. */
  clients?: Record<string, string>;
  /** UWS username → password. */
  users?: Record<string, string>;
  accountName?: string;
  /** Over `thingSpaceDefaultFaults`: the kit's faults and ThingSpace's own. */
  faults?: Partial<Faults & ThingSpaceFaults>;
  /** Time a line spends in `pending activation`; default 2,000. */
  activationDelayMs?: number;
  /** Time from a request to each device's result (activation: to `pending activation`); default 500. */
  actionDelayMs?: number;
  /** Delay before each callback retry; documented: 3 retries, 5 minutes apart. */
  callbackRetryDelaysMs?: number[];
  /** How long a callback listener may take to answer; default 10,000. */
  callbackTimeoutMs?: number;
  /** Epoch milliseconds; default `Date.now`. Drives token/session expiry, daily/monthly rules, delays. */
  clock?: WallClock;
  /**
   * Run background work on real timers when it falls due. Default: true without a `clock`, false with
   * one (the test then advances its clock and calls `tick()`).
   */
  autoRun?: boolean;
  /** Session idle expiry; documented 20 minutes. */
  sessionIdleMs?: number;
  /** OAuth token lifetime; documented 1 hour. */
  accessTokenTtlMs?: number;
  servicePlans?: ThingSpaceServicePlan[];
  /** Documented: 5. */
  provisioningActionsPerDay?: number;
  /** Documented: 4. */
  planChangesPerMonth?: number;
}

export interface ThingSpaceSimulator extends SimulatorServer<ThingSpaceSimLine> {
  accountName: string;
  /**
   * Runs every piece of background work due by the clock now (device results, activations, callback
   * attempts and the retries that fall due meanwhile) and waits until the callbacks it sent are answered.
   */
  tick: () => Promise<void>;
  /**
   * `tick()` until no work is left. With real timers it waits for future work too (rejecting after
   * `timeoutMs`, default 10,000); with a manual clock it stops at work that is not yet due.
   */
  settled: (timeoutMs?: number) => Promise<void>;
  /** Every callback delivery attempt, oldest first (also `GET /_sim/callbacks`). */
  callbackDeliveries: (filter?: CallbackFilter) => CallbackDelivery[];
  thingSpaceFaults: {
    get: () => ThingSpaceFaults;
    update: (patch: Partial<ThingSpaceFaults>) => ThingSpaceFaults;
  };
}

export const thingSpaceDefaultClients: Record<string, string> = { 'demo-client-id': 'demo-client-secret' };
export const thingSpaceDefaultUsers: Record<string, string> = { 'demo-user': 'demo-password' };
/** Real account names are numeric with leading zeros (carrier-apis §1.2). */
export const thingSpaceDefaultAccountName = '0000123456-00001';
/** Documented (carrier-apis §1.9). */
export const thingSpaceMaxDevicesPerRequest = 10_000;
export const thingSpaceDefaultCallbackRetryDelaysMs = [300_000, 300_000, 300_000];

/** No general request rate is documented; the activate limit is ThingSpace's own fault. */
export const thingSpaceDefaultFaults: Partial<Faults> & ThingSpaceFaults = {
  callbacks: true,
  activateRequestsPerMinute: 100,
  refuseCallbackRegistration: false,
};

export const thingSpaceServicePlans: ThingSpaceServicePlan[] = [
  { name: 'M2M 4G 1MB', code: 'M2M4G1MB', sizeKb: 1_024, carrierServicePlanCode: '84777' },
  { name: 'M2M 4G 25MB', code: 'M2M4G25MB', sizeKb: 25_600, carrierServicePlanCode: '84778' },
  { name: 'M2M 4G 1GB', code: 'M2M4G1GB', sizeKb: 1_048_576, carrierServicePlanCode: '84779' },
  { name: 'M2M 4G 5GB', code: 'M2M4G5GB', sizeKb: 5_242_880, carrierServicePlanCode: '84780' },
  { name: 'M2M 5G Unlimited', code: 'M2M5GUNL', sizeKb: 0, carrierServicePlanCode: '84781' },
];

/** A delivery as the admin API shows it: the callback username and password it carried are redacted. */
const withoutCredentials = (delivery: CallbackDelivery): CallbackDelivery => ({
  ...delivery,
  body: {
    ...delivery.body,
    ...('username' in delivery.body ? { username: REDACTED } : {}),
    ...('password' in delivery.body ? { password: REDACTED } : {}),
  },
});

const listPageSize = 500;
const m2m = '/api/m2m/v1';

const deviceIdSchema = z.object({ id: z.string().min(1), kind: z.string().min(1) });
const devicesSchema = z.array(
  z.object({ deviceIds: z.array(deviceIdSchema).min(1), ipAddress: z.string().optional() }),
);
const accountNameSchema = z.string().min(1).optional();
const customFieldsSchema = z.array(z.object({ key: z.string(), value: z.string() })).optional();

// Unknown fields are ignored, as ThingSpace does.
const addSchema = z.object({
  state: z.string().refine((state) => state.toLowerCase() === 'preactive', 'state must be preactive'),
  devicesToAdd: devicesSchema.min(1),
  accountName: accountNameSchema,
  customFields: customFieldsSchema,
  groupName: z.string().optional(),
  skuNumber: z.string().optional(),
});
const placeOfUseSchema = z.looseObject({
  customerName: z.looseObject({ firstName: z.string(), lastName: z.string() }),
  address: z.looseObject({
    addressLine1: z.string(),
    city: z.string(),
    state: z.string(),
    zip: z.string(),
    country: z.string(),
  }),
});
const activateSchema = z.object({
  devices: devicesSchema.min(1),
  servicePlan: z.string().min(1),
  mdnZipCode: z.string().regex(/^\d{5}$/, 'mdnZipCode must be 5 digits'),
  accountName: accountNameSchema,
  primaryPlaceOfUse: placeOfUseSchema.optional(),
  publicIpRestriction: z.enum(['restricted', 'unrestricted']).optional(),
  carrierIpPoolName: z.string().optional(),
  costCenterCode: z.string().optional(),
  customFields: customFieldsSchema,
  groupName: z.string().optional(),
  skuNumber: z.string().optional(),
});
/** Devices are required here: account- or group-wide actions (no `devices`) are not simulated. */
const actionsSchema = z.object({
  devices: devicesSchema.min(1),
  accountName: accountNameSchema,
  withBilling: z.boolean().optional(),
  customFields: customFieldsSchema,
  groupName: z.string().optional(),
  servicePlan: z.string().optional(),
});
const deactivateSchema = actionsSchema.extend({
  // Documented: FF (general administration / maintenance) is the only valid value.
  reasonCode: z.literal('FF', { error: 'reasonCode must be FF' }),
  etfWaiver: z.boolean().optional(),
  deleteAfterDeactivation: z.boolean().optional(),
});
const planSchema = z.object({
  devices: devicesSchema.min(1),
  servicePlan: z.string().min(1),
  currentServicePlan: z.string().optional(),
  accountName: accountNameSchema,
  carrierIpPoolName: z.string().optional(),
  takeEffect: z.string().optional(),
});
/**
 * Change Device Identifier's 4G options (Verizon's "Uses and Requirements" table). The simulator carries
 * out the three hardware swaps; the others are refused as unsupported by this simulator.
 */
export const change4gOptions = ['ChangeICCID', 'ChangeIMEI', 'ChangeIMEIandICCID'] as const;
const identifierSchema = z.object({
  deviceIds: z.array(deviceIdSchema).min(1),
  deviceIdsTo: z.array(deviceIdSchema).min(1),
  change4gOption: z.enum(change4gOptions, {
    error: 'change4gOption is required: ChangeICCID, ChangeIMEI or ChangeIMEIandICCID',
  }),
  assignNonGeoMdn: z.boolean().optional(),
  npaNxx: z.string().optional(),
  zipCode: z.string().optional(),
  servicePlan: z.string().optional(),
  smsrOid: z.string().optional(),
});

/** The kinds each option names the device by and changes it to: an IMEI swap names both by IMEI. */
const identifierKinds: Record<(typeof change4gOptions)[number], { from: string[]; to: string[] }> = {
  ChangeICCID: { from: ['iccid'], to: ['iccid'] },
  ChangeIMEI: { from: ['imei'], to: ['imei'] },
  ChangeIMEIandICCID: { from: ['iccid'], to: ['iccid', 'imei'] },
};
const listSchema = z.object({
  accountName: accountNameSchema,
  deviceId: deviceIdSchema.optional(),
  filter: z
    .object({
      deviceIdentifierFilters: z
        .array(
          z.object({
            kind: z.string(),
            contains: z.string().optional(),
            startswith: z.string().optional(),
            endswith: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  currentState: z.string().optional(),
  servicePlan: z.string().optional(),
  maxNumberOfDevices: z.number().int().positive().optional(),
  /** The `DeviceId` extended attribute of the previous page's last device. */
  largestDeviceIdSeen: z.number().int().nonnegative().optional(),
});
const callbackSchema = z.object({
  name: z.string().min(1),
  url: z.url().refine((url) => callbackUrlProblem(url) === undefined, {
    error: (issue) => `url: ${callbackUrlProblem(String(issue.input))}`,
  }),
  username: z.string().optional(),
  password: z.string().optional(),
});

const thingSpaceFaultsPatchSchema = z.strictObject({
  callbacks: z.boolean().optional(),
  activateRequestsPerMinute: z.number().int().positive().nullable().optional(),
  refuseCallbackRegistration: z.boolean().optional(),
});
const callbacksQuerySchema = z.object({
  requestId: z.string().optional(),
  iccid: z.string().optional(),
  action: z.string().optional(),
  delivered: z.enum(['true', 'false']).optional(),
});
const unlockSchema = z.object({ username: z.string().optional() }).optional();

/**
 * Verizon ThingSpace Connectivity Management (M2M REST, carrier-apis §1): two-token auth, asynchronous
 * device actions with per-device results by CarrierService callback and request status, the documented
 * state machine, provisioning rules and limits. Tokens are checked after the kit's fault gate, as a
 * gateway throttles before it looks at credentials.
 */
export const createThingSpaceSimulator = (options: ThingSpaceSimulatorOptions = {}): ThingSpaceSimulator => {
  const accountName = options.accountName ?? thingSpaceDefaultAccountName;
  const clock = options.clock ?? Date.now;
  const autoRun = options.autoRun ?? options.clock === undefined;
  const plans = options.servicePlans ?? thingSpaceServicePlans;
  const planCode = (given: string) => plans.find((plan) => plan.code === given || plan.name === given)?.code;
  const { callbacks, activateRequestsPerMinute, refuseCallbackRegistration, ...kitFaults } = {
    ...thingSpaceDefaultFaults,
    ...options.faults,
  };
  const carrierFaults = new CarrierFaults<ThingSpaceFaults>(
    { callbacks, activateRequestsPerMinute, refuseCallbackRegistration },
    thingSpaceFaultsPatchSchema,
  );

  const store = new DeviceStore<ThingSpaceSimLine>();
  let lastDeviceId = 0;
  const nextDeviceId = () => {
    lastDeviceId += 1;
    return lastDeviceId;
  };
  const scheduler = new Scheduler(clock, autoRun);
  const auth = new ThingSpaceAuth(
    {
      clients: options.clients ?? thingSpaceDefaultClients,
      users: options.users ?? thingSpaceDefaultUsers,
      accessTokenTtlMs: options.accessTokenTtlMs ?? 3_600_000,
      sessionIdleMs: options.sessionIdleMs ?? 1_200_000,
      maxLoginFailures: 5,
    },
    clock,
  );
  const rules = new RuleBook({
    provisioningActionsPerDay: options.provisioningActionsPerDay ?? 5,
    planChangesPerMonth: options.planChangesPerMonth ?? 4,
  });
  const activateWindow = new ActivateWindow();
  const dispatcher = new CallbackDispatcher({
    scheduler,
    retryDelaysMs: options.callbackRetryDelaysMs ?? thingSpaceDefaultCallbackRetryDelaysMs,
    timeoutMs: options.callbackTimeoutMs ?? 10_000,
    concurrency: 20,
    enabled: () => carrierFaults.get().callbacks,
  });
  const engine = new RequestEngine({
    store,
    scheduler,
    rules,
    callbacks: dispatcher,
    accountName,
    nextDeviceId,
    actionDelayMs: options.actionDelayMs ?? 500,
    activationDelayMs: options.activationDelayMs ?? 2_000,
  });

  // The fault set belongs to the kit's server, created below from these routes.
  let server: SimulatorServer<ThingSpaceSimLine> | undefined;
  /** `expireTokens` is one-shot: the next carrier request expires every token issued so far, then it clears. */
  const applyTokenExpiry = () => {
    if (server?.faults.get().expireTokens) {
      auth.expireAll();
      server.faults.update({ expireTokens: false });
    }
  };
  type Handle = (request: SimRequest) => SimResponse;
  const token =
    (handle: Handle): Handle =>
    (request) => {
      applyTokenExpiry();
      return auth.checkAccessToken(request.headers) ?? handle(request);
    };
  const session = (handle: Handle): Handle =>
    token((request) => auth.checkSession(request.headers) ?? handle(request));
  const accountCheck = (given: string | undefined): SimResponse | undefined =>
    given === undefined || given === accountName
      ? undefined
      : m2mError(thingSpaceErrorCodes.accountNotFound, `Account ${given} was not found`);

  /** The shared synchronous part of every device action: body, batch size, account, identifiers. */
  const action =
    <S extends z.ZodType<{ accountName?: string }>>(
      schema: S,
      devicesField: string,
      submit: (body: z.infer<S>) => SimResponse,
    ): Handle =>
    (request) => {
      const { body } = request;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return m2mError(
          thingSpaceErrorCodes.requestUndefined,
          'The request message is empty or not an object',
        );
      }
      const devices = (body as Record<string, unknown>)[devicesField];
      if (Array.isArray(devices) && devices.length > thingSpaceMaxDevicesPerRequest) {
        return m2mError(
          thingSpaceErrorCodes.maxRequestsExceeded,
          `A request may name at most ${thingSpaceMaxDevicesPerRequest} devices; this one names ${devices.length}`,
        );
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) return schemaRefusal(parsed.error);
      const refusal =
        accountCheck(parsed.data.accountName) ??
        deviceIdsRefusal(namedDevices(parsed.data, devicesField).flat());
      return refusal ?? submit(parsed.data);
    };
  const accepted = (devices: DeviceId[][], params: ActionParams): SimResponse => ({
    status: 200,
    body: { requestId: engine.submit(devices, params) },
  });
  const unknownPlan = (plan: string) =>
    m2mError(thingSpaceErrorCodes.servicePlanNotFound, `Service plan ${plan} was not found`);
  const batchIccids = (field: string) => (request: SimRequest) =>
    iccidsOf(store, namedDevices(request.body, field));

  const routes: CarrierRoute[] = [
    {
      method: 'POST',
      url: '/api/ts/v1/oauth2/token',
      action: 'token',
      iccids: () => [],
      handle: (request) => {
        applyTokenExpiry();
        return auth.token(request.headers, request.body);
      },
    },
    {
      method: 'POST',
      url: `${m2m}/session/login`,
      action: 'login',
      iccids: () => [],
      handle: token((request) => auth.login(request.body)),
    },
    {
      method: 'POST',
      url: `${m2m}/session/logout`,
      action: 'logout',
      iccids: () => [],
      handle: session((request) => auth.logout(request.headers)),
    },
    {
      method: 'POST',
      url: `${m2m}/devices/actions/add`,
      action: 'add',
      iccids: batchIccids('devicesToAdd'),
      handle: session(
        action(addSchema, 'devicesToAdd', (body) => ({
          status: 200,
          body: body.devicesToAdd.map(({ deviceIds }) => ({ deviceIds, response: addDevice(deviceIds) })),
        })),
      ),
    },
    {
      method: 'POST',
      url: `${m2m}/devices/actions/activate`,
      action: 'activate',
      iccids: batchIccids('devices'),
      handle: session((request) => {
        const waitSeconds = activateWindow.admit(clock(), carrierFaults.get().activateRequestsPerMinute);
        if (waitSeconds > 0) {
          return gatewayFault(
            429,
            thingSpaceGatewayCodes.throttled,
            'Message throttled out',
            `More than ${carrierFaults.get().activateRequestsPerMinute} activate requests per minute`,
            { 'retry-after': String(waitSeconds) },
          );
        }
        return action(activateSchema, 'devices', (body) => {
          const servicePlan = planCode(body.servicePlan);
          if (servicePlan === undefined) return unknownPlan(body.servicePlan);
          return accepted(deviceIdLists(body.devices), {
            action: 'activate',
            servicePlan,
            mdnZipCode: body.mdnZipCode,
            primaryPlaceOfUse: body.primaryPlaceOfUse ?? null,
          });
        })(request);
      }),
    },
    ...(['suspend', 'restore'] as const).map(
      (name): CarrierRoute => ({
        method: 'POST',
        url: `${m2m}/devices/actions/${name}`,
        action: name,
        iccids: batchIccids('devices'),
        handle: session(
          action(actionsSchema, 'devices', (body) => accepted(deviceIdLists(body.devices), { action: name })),
        ),
      }),
    ),
    {
      method: 'POST',
      url: `${m2m}/devices/actions/deactivate`,
      action: 'deactivate',
      iccids: batchIccids('devices'),
      handle: session(
        action(deactivateSchema, 'devices', (body) =>
          body.accountName === undefined
            ? m2mError(thingSpaceErrorCodes.accountNotDefined, 'accountName is required')
            : accepted(deviceIdLists(body.devices), { action: 'deactivate', reasonCode: body.reasonCode }),
        ),
      ),
    },
    {
      method: 'PUT',
      url: `${m2m}/devices/actions/plan`,
      action: 'change_plan',
      iccids: batchIccids('devices'),
      handle: session(
        action(planSchema, 'devices', (body) => {
          const servicePlan = planCode(body.servicePlan);
          if (servicePlan === undefined) return unknownPlan(body.servicePlan);
          return accepted(deviceIdLists(body.devices), { action: 'change_plan', servicePlan });
        }),
      ),
    },
    {
      method: 'PUT',
      url: `${m2m}/devices/:serviceType/actions/deviceId`,
      action: 'change_identifier',
      iccids: (request) => {
        const body = request.body as Record<string, unknown> | null | undefined;
        return iccidsOf(store, [idList(body?.deviceIds), idList(body?.deviceIdsTo)]);
      },
      handle: session((request) => {
        const parsed = identifierSchema.safeParse(request.body ?? {});
        if (!parsed.success) return schemaRefusal(parsed.error);
        const { deviceIds, deviceIdsTo, change4gOption } = parsed.data;
        const refusal = deviceIdsRefusal([...deviceIds, ...deviceIdsTo]);
        if (refusal !== undefined) return refusal;
        const kinds = identifierKinds[change4gOption];
        const names = (ids: DeviceId[], kind: string) => ids.some((id) => id.kind.toLowerCase() === kind);
        const missing =
          kinds.from.find((kind) => !names(deviceIds, kind)) ??
          kinds.to.find((kind) => !names(deviceIdsTo, kind));
        if (missing !== undefined) {
          return m2mError(
            thingSpaceErrorCodes.deviceKindInvalid,
            `${change4gOption} names the device and its new hardware by ${missing.toUpperCase()}`,
          );
        }
        return accepted([deviceIds], { action: 'change_identifier', deviceIdsTo });
      }),
    },
    {
      method: 'POST',
      url: `${m2m}/devices/actions/list`,
      action: 'list_devices',
      iccids: (request) => {
        const deviceId = deviceIdSchema.safeParse((request.body as { deviceId?: unknown } | null)?.deviceId);
        return deviceId.success ? iccidsOf(store, [[deviceId.data]]) : [];
      },
      handle: session((request) => listDevices(request.body ?? {})),
    },
    ...(['v1', 'v2'] as const).map(
      (version): CarrierRoute => ({
        method: 'GET',
        url: `/api/m2m/${version}/accounts/:accountName/requests/:requestId/status`,
        action: version === 'v1' ? 'request_status_v1' : 'request_status',
        iccids: () => [],
        handle: session((request) => {
          const refusal = accountCheck(request.params.accountName);
          if (refusal !== undefined) return refusal;
          const { requestId } = request.params;
          const status = version === 'v1' ? engine.statusV1(requestId) : engine.statusV2(requestId);
          return status === undefined
            ? m2mError(thingSpaceErrorCodes.requestNotFound, `Request ${requestId} was not found`)
            : { status: 200, body: status };
        }),
      }),
    ),
    {
      method: 'POST',
      url: `${m2m}/callbacks/:accountName`,
      action: 'register_callback',
      iccids: () => [],
      handle: session((request) => {
        const refusal = accountCheck(request.params.accountName);
        if (refusal !== undefined) return refusal;
        if (carrierFaults.get().refuseCallbackRegistration) {
          return m2mError(
            thingSpaceErrorCodes.callbackNotAllowed,
            'Callback registration is not enabled for this account',
          );
        }
        const parsed = callbackSchema.safeParse(request.body);
        if (!parsed.success) return schemaRefusal(parsed.error);
        const { name, ...target } = parsed.data;
        dispatcher.register({ accountName, serviceName: name, ...target });
        return { status: 200, body: { accountName, serviceName: name } };
      }),
    },
    {
      method: 'GET',
      url: `${m2m}/callbacks/:accountName`,
      action: 'list_callbacks',
      iccids: () => [],
      handle: session(
        (request) =>
          accountCheck(request.params.accountName) ?? { status: 200, body: dispatcher.registrations() },
      ),
    },
    {
      method: 'DELETE',
      url: `${m2m}/callbacks/:accountName/name/:serviceName`,
      action: 'deregister_callback',
      iccids: () => [],
      handle: session((request) => {
        const { serviceName } = request.params;
        const refusal = accountCheck(request.params.accountName);
        if (refusal !== undefined) return refusal;
        return dispatcher.deregister(serviceName)
          ? { status: 200, body: { accountName, serviceName } }
          : m2mError(thingSpaceErrorCodes.callbackNotFound, `No ${serviceName} callback is registered`);
      }),
    },
    {
      method: 'GET',
      url: `${m2m}/plans/:accountName`,
      action: 'list_plans',
      iccids: () => [],
      handle: session(
        (request) =>
          accountCheck(request.params.accountName) ?? {
            status: 200,
            body: plans.map((plan) => ({ ...plan, extendedAttributes: [] })),
          },
      ),
    },
  ];

  /** Add is synchronous (carrier-apis §1.4): a per-device `response` string. */
  function addDevice(deviceIds: DeviceId[]): string {
    const iccid = deviceIds.find(({ kind }) => kind.toLowerCase() === 'iccid')?.id;
    if (iccid === undefined) return 'Error. ICCID is required.';
    if (store.get(iccid) !== undefined) return 'Error. Device already exists.';
    const now = new Date(clock()).toISOString();
    const seed = {
      iccid,
      imei: deviceIds.find(({ kind }) => kind.toLowerCase() === 'imei')?.id,
      eid: deviceIds.find(({ kind }) => kind.toLowerCase() === 'eid')?.id,
    };
    store.put(
      seededLine({ ...seed, state: 'pre-active' }, undefined, {
        accountName,
        defaultPlan: '',
        now,
        nextDeviceId,
      }),
    );
    return 'Success';
  }

  function listDevices(body: unknown): SimResponse {
    const parsed = listSchema.safeParse(body);
    if (!parsed.success) return schemaRefusal(parsed.error);
    const query = parsed.data;
    const refusal =
      accountCheck(query.accountName) ?? deviceIdsRefusal(query.deviceId ? [query.deviceId] : []);
    if (refusal !== undefined) return refusal;
    const now = clock();
    if (query.deviceId !== undefined) {
      const line = new LineFinder(store).find([query.deviceId]);
      if (line === undefined) {
        return m2mError(thingSpaceErrorCodes.deviceNotFound, `Device ${query.deviceId.id} was not found`);
      }
      return { status: 200, body: { hasMoreData: false, devices: [listedDevice(line, true, now)] } };
    }
    const after = query.largestDeviceIdSeen ?? -1;
    const filters = query.filter?.deviceIdentifierFilters ?? [];
    const matching = store
      .list()
      .filter(
        (line) =>
          line.deviceId > after &&
          (query.currentState === undefined || line.state === query.currentState.toLowerCase()) &&
          (query.servicePlan === undefined || line.servicePlan === planCode(query.servicePlan)) &&
          filters.every((filter) => {
            const value = lineDeviceIds(line).find(({ kind }) => kind === filter.kind.toLowerCase())?.id;
            return (
              value !== undefined &&
              (filter.contains === undefined || value.includes(filter.contains)) &&
              (filter.startswith === undefined || value.startsWith(filter.startswith)) &&
              (filter.endswith === undefined || value.endsWith(filter.endswith))
            );
          }),
      )
      .sort((a, b) => a.deviceId - b.deviceId);
    const size = Math.min(query.maxNumberOfDevices ?? listPageSize, listPageSize);
    const hasMoreData = matching.length > size;
    return {
      // Documented: 202 while there are more pages, 200 on the last.
      status: hasMoreData ? 202 : 200,
      body: { hasMoreData, devices: matching.slice(0, size).map((line) => listedDevice(line, false, now)) },
    };
  }

  const adminRoutes: AdminRoute[] = [
    {
      method: 'GET',
      url: '/callbacks',
      handle: (request) => {
        const query = callbacksQuerySchema.safeParse(Object.fromEntries(request.query));
        if (!query.success) return adminValidationError(query.error);
        const { delivered, ...filter } = query.data;
        const deliveries = dispatcher.deliveries({
          ...filter,
          delivered: delivered === undefined ? undefined : delivered === 'true',
        });
        // The admin API is unauthenticated: the registered credentials the bodies echo are not shown.
        return { status: 200, body: deliveries.map(withoutCredentials) };
      },
    },
    {
      method: 'GET',
      url: '/requests/:requestId',
      handle: (request) => {
        const status = engine.adminView(request.params.requestId);
        return status === undefined
          ? adminError(404, 'NOT_FOUND', 'No such request')
          : { status: 200, body: status };
      },
    },
    {
      method: 'POST',
      url: '/unlock',
      handle: (request) => {
        const body = unlockSchema.safeParse(request.body);
        if (!body.success) return adminValidationError(body.error);
        return { status: 200, body: { unlocked: auth.unlock(body.data?.username) } };
      },
    },
  ];

  const halt = () => {
    scheduler.clear();
    dispatcher.reset();
  };

  const kit = createSimulatorServer({
    store,
    routes,
    defaultFaults: kitFaults,
    seedSchema: createSeedSchema(new Set(plans.map((plan) => plan.code))),
    fromSeed: (seed: ThingSpaceSeed, existing) =>
      seededLine(seed, existing, {
        accountName,
        defaultPlan: plans[0].code,
        now: new Date(clock()).toISOString(),
        nextDeviceId,
      }),
    errorEnvelope: thingSpaceFailureEnvelope,
    adminRoutes,
    extraFaults: carrierFaults.extension(),
    contentTypeParsers: {
      'application/x-www-form-urlencoded': (body) => Object.fromEntries(new URLSearchParams(body)),
    },
    onReset: () => {
      halt();
      auth.reset();
      rules.clear();
      activateWindow.clear();
      engine.reset();
    },
    onClose: halt,
  });
  server = kit;

  const tick = async () => {
    for (;;) {
      const ran = await scheduler.runDue();
      const sent = await dispatcher.drain();
      if (ran === 0 && sent === 0) return;
    }
  };
  return {
    ...kit,
    accountName,
    tick,
    async settled(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await tick();
        if ((scheduler.pending === 0 && dispatcher.idle) || !autoRun) return;
        if (Date.now() > deadline) throw new Error('The ThingSpace simulator still has background work');
        await sleep(5);
      }
    },
    callbackDeliveries: (filter) => dispatcher.deliveries(filter),
    thingSpaceFaults: carrierFaults,
  };
};

const schemaRefusal = (error: z.ZodError): SimResponse => {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return m2mError(thingSpaceErrorCodes.unexpectedError, `${where}${issue.message}`);
};

const idList = (value: unknown): DeviceId[] => {
  const parsed = z.array(deviceIdSchema).safeParse(value);
  return parsed.success ? parsed.data : [];
};

/** The device id lists of `devices` / `devicesToAdd`; copes with any body (the call log calls it too). */
const namedDevices = (body: unknown, field: string): DeviceId[][] => {
  const list =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(list)) return [];
  return list
    .map((device) => idList(typeof device === 'object' && device !== null ? device.deviceIds : undefined))
    .filter((ids) => ids.length > 0);
};

const deviceIdLists = (devices: { deviceIds: DeviceId[] }[]): DeviceId[][] =>
  devices.map((device) => device.deviceIds);

const iccidsOf = (store: DeviceStore<ThingSpaceSimLine>, devices: DeviceId[][]): string[] => {
  const finder = new LineFinder(store);
  return devices.flatMap((ids) => {
    const iccid = ids.length === 0 ? undefined : finder.iccidOf(ids);
    return iccid === undefined ? [] : [iccid];
  });
};
