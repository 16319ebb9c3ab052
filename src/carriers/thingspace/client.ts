import { z } from 'zod';
import { CarrierError, type CarrierErrorKind } from '../../core/carrier-error.ts';
import { errorCodes } from '../../core/errors.ts';
import type { CarrierAccount } from '../../core/flow.ts';
import type { AccountReports } from '../carrier.ts';
import type { CallContext, CarrierCall } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';
import type { CarrierHttpOptions } from '../http/factory.ts';
import type { CallLimiter } from '../limits/call-limiter.ts';
import type { SessionStore } from '../limits/session-store.ts';
import { ThingSpaceSession } from './session.ts';

export const ACTIVATE_REQUESTS_PER_MINUTE = 100;

export const thingSpaceCredentialsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  username: z.string().min(1),
  password: z.string().min(1),
  /** What ThingSpace must present on our callback endpoint; registered with the callback. */
  callbackPassword: z.string().min(8).optional(),
});

/**
 * The ports ThingSpace delivers callbacks to (Register Callback Listener, "Callback URL": 80, 443,
 * 9001–9006, 50551–50559, 28200–28220). A listener on any other port never hears from Verizon.
 */
export const THINGSPACE_CALLBACK_PORTS: ReadonlyArray<readonly [number, number]> = [
  [80, 80],
  [443, 443],
  [9001, 9006],
  [50551, 50559],
  [28200, 28220],
];

const loopbackHost = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/**
 * Why ThingSpace could not deliver to this callback URL, or undefined. A loopback listener is a
 * rehearsal against the simulator on this machine (Verizon cannot reach it on any port), so only its
 * form is checked.
 */
export function callbackUrlProblem(url: string): string | undefined {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an http(s) URL';
  if (loopbackHost(parsed.hostname)) return undefined;
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (THINGSPACE_CALLBACK_PORTS.some(([low, high]) => port >= low && port <= high)) return undefined;
  return `port ${port} is not one ThingSpace delivers callbacks to (80, 443, 9001–9006, 50551–50559, 28200–28220)`;
}

/** Verizon's PlaceOfUse (carrier-apis §1.5, `place-of-use.md`): who uses the line, and where. */
export const placeOfUseSchema = z.object({
  customerName: z.object({
    title: z.string().min(1).optional(),
    firstName: z.string().trim().min(1),
    middleName: z.string().min(1).optional(),
    lastName: z.string().trim().min(1),
    suffix: z.string().min(1).optional(),
  }),
  address: z.object({
    addressLine1: z.string().trim().min(1),
    addressLine2: z.string().min(1).optional(),
    city: z.string().trim().min(1),
    state: z.string().trim().min(1),
    zip: z.string().regex(/^\d{5}$/, 'zip is 5 digits'),
    zip4: z
      .string()
      .regex(/^\d{4}$/)
      .optional(),
    country: z.string().trim().min(1),
    phone: z.string().min(1).optional(),
    phoneType: z.string().min(1).optional(),
    emailAddress: z.email().optional(),
  }),
});
export type PlaceOfUse = z.infer<typeof placeOfUseSchema>;

export const thingSpaceSettingsSchema = z
  .object({
    accountName: z.string().min(1),
    /** Used for activations whose rows name none. */
    defaultServicePlan: z.string().min(1).optional(),
    defaultMdnZipCode: z
      .string()
      .regex(/^\d{5}$/)
      .optional(),
    /** Sent on activations whose rows name no place of use (the original sent one when it had it). */
    primaryPlaceOfUse: placeOfUseSchema.optional(),
    /** Our public callback URL for this account; without it results are polled. */
    callbackUrl: z.url().optional(),
    callbackUsername: z.string().min(1).optional(),
    /**
     * The `{serviceType}` of `PUT /devices/{serviceType}/actions/deviceId`. Verizon names the path
     * parameter but publishes no values: unconfirmed, see docs/carriers/thingspace.md.
     */
    changeIdentifierServiceType: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'one path segment')
      .default('4G'),
  })
  .loose()
  .refine((settings) => !settings.callbackUrl || settings.callbackUsername, {
    message:
      'callbackUrl needs callbackUsername (and credentials.callbackPassword): callbacks are authenticated',
    path: ['callbackUsername'],
  })
  .superRefine((settings, context) => {
    const problem = settings.callbackUrl && callbackUrlProblem(settings.callbackUrl);
    if (problem) context.addIssue({ code: 'custom', path: ['callbackUrl'], message: problem });
  });
export type ThingSpaceSettings = z.infer<typeof thingSpaceSettingsSchema>;

export const thingSpaceErrorSchema = z
  .object({ errorCode: z.string(), errorMessage: z.string().optional() })
  .loose();
const gatewayFaultSchema = z
  .object({ fault: z.object({ code: z.string(), message: z.string() }).loose() })
  .loose();
const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() }).loose();

/** The carrier's business rules (carrier-apis §1.9): a refusal for these is a `rule`, not a rejection. */
const ruleCodes = [
  'ProvisioningLimitExceeded',
  'ChangeLimitExceeded',
  'DeviceSuspended',
  'MaxRequestsExceeded',
];

export const isRuleCode = (code: string | undefined) =>
  code !== undefined && ruleCodes.some((rule) => code.endsWith(rule));

/** ThingSpace's three error shapes: the M2M envelope, the gateway fault and the OAuth error. */
export function parseThingSpaceError(_status: number, body: unknown): { code?: string; message?: string } {
  const m2m = thingSpaceErrorSchema.safeParse(body);
  if (m2m.success) return { code: m2m.data.errorCode, message: m2m.data.errorMessage };
  const gateway = gatewayFaultSchema.safeParse(body);
  if (gateway.success) return { code: gateway.data.fault.code, message: gateway.data.fault.message };
  const oauth = oauthErrorSchema.safeParse(body);
  if (oauth.success) return { code: oauth.data.error, message: oauth.data.error_description };
  return {};
}

export function classifyThingSpaceError(
  _status: number,
  _body: unknown,
  parsed: { code?: string },
): CarrierErrorKind | undefined {
  if (parsed.code?.endsWith('SessionToken.Expired')) return 'auth';
  if (isRuleCode(parsed.code)) return 'rule';
  return undefined;
}

/** The carrier refused the session (expired) or the gateway the bearer token (401): log in again. */
const isExpiry = (error: CarrierError) =>
  error.carrierCode?.endsWith('SessionToken.Expired') === true || error.httpStatus === 401;

export const httpOptions: Omit<CarrierHttpOptions, 'headers'> = {
  system: 'thingspace',
  parseError: parseThingSpaceError,
  classify: classifyThingSpaceError,
};

export interface DeviceId {
  kind: string;
  id: string;
}

const deviceIdSchema = z.object({ id: z.string(), kind: z.string() }).loose();
const requestIdSchema = z.object({ requestId: z.string().min(1) }).loose();
const addResultSchema = z.array(
  z.object({ deviceIds: z.array(deviceIdSchema), response: z.string() }).loose(),
);

/**
 * `GET /api/m2m/v2/accounts/{accountName}/requests/{requestID}/status` (Get the Status of an
 * Asynchronous Request): the request's overall status and one `subRequests` entry per device it lists.
 * The v1 answer is only `{requestId, status}`, and only for single-device requests, so it is not used.
 */
const statusSchema = z
  .object({
    requestId: z.string(),
    status: z.string(),
    subRequests: z.array(z.object({ ids: z.array(deviceIdSchema), status: z.string() }).loose()).optional(),
  })
  .loose();
export type RequestStatus = z.infer<typeof statusSchema>;

const extendedAttributeSchema = z.object({ key: z.string(), value: z.string().nullish() }).loose();
const listedDeviceSchema = z
  .object({
    deviceIds: z.array(deviceIdSchema),
    ipAddress: z.string().optional(),
    carrierInformations: z.array(z.object({ state: z.string(), servicePlan: z.string().optional() }).loose()),
    extendedAttributes: z.array(extendedAttributeSchema).optional(),
    /** When the line last connected to the network (list shape, carrier-apis §1.5): its last usage. */
    lastConnectionDate: z.string().optional(),
  })
  .loose();
const listSchema = z.object({ hasMoreData: z.boolean(), devices: z.array(listedDeviceSchema) }).loose();
type ListedDevice = z.infer<typeof listedDeviceSchema>;

/** A line as ThingSpace reports it. */
export interface ThingSpaceLine {
  iccid: string;
  imei: string | null;
  msisdn: string | null;
  state: string;
  servicePlan: string | null;
  ipAddress: string | null;
  /** Epoch ms of the line's last network connection, when ThingSpace reports one. */
  lastConnectionAt: number | null;
}

/** ThingSpace's times carry an offset (`2020-03-12T04:23:37-04:00`); one it cannot read is unknown. */
const epochOf = (time: string | undefined): number | null => {
  const at = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(at) ? null : at;
};

const idOfKind = (ids: DeviceId[], kind: string) =>
  ids.find((id) => id.kind.toLowerCase() === kind)?.id ?? null;

export const lineFromIds = (ids: DeviceId[], ipAddress?: string | null) => ({
  iccid: idOfKind(ids, 'iccid'),
  imei: idOfKind(ids, 'imei'),
  msisdn: idOfKind(ids, 'msisdn') ?? idOfKind(ids, 'mdn'),
  ipAddress: ipAddress && ipAddress !== '0.0.0.0' ? ipAddress : null,
});

const lineOf = (device: ListedDevice, fallbackIccid?: string): ThingSpaceLine | undefined => {
  const ids = lineFromIds(device.deviceIds, device.ipAddress);
  const iccid = ids.iccid ?? fallbackIccid;
  if (!iccid) return undefined;
  return {
    iccid,
    imei: ids.imei,
    msisdn: ids.msisdn,
    ipAddress: ids.ipAddress,
    state: device.carrierInformations[0]?.state.toLowerCase() ?? 'unknown',
    servicePlan: device.carrierInformations[0]?.servicePlan ?? null,
    lastConnectionAt: epochOf(device.lastConnectionDate),
  };
};

/**
 * The list's paging cursor: the `DeviceId` extended attribute of the last device of a page, which the
 * next request names as `largestDeviceIdSeen` (AMOP's ThingSpace device sync reads it so).
 */
const deviceIdAttribute = (device: ListedDevice | undefined): number | undefined => {
  const value = device?.extendedAttributes?.find((attribute) => attribute.key === 'DeviceId')?.value;
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
};

/** The List Devices filters we use: lines in one state (`currentState`), or on one plan (`servicePlan`). */
export type LineFilter = { currentState?: string; servicePlan?: string };

export type ThingSpaceAction = 'suspend' | 'restore' | 'deactivate';

/**
 * Change Device Identifier's `change4gOption` for the swaps bulkchange makes (Verizon's "Uses and
 * Requirements" table): a new SIM, a new device, or both.
 */
export type Change4gOption = 'ChangeICCID' | 'ChangeIMEI' | 'ChangeIMEIandICCID';

/**
 * Deactivation reasons Verizon accepts: "FF" (general administration / maintenance) is the only value
 * the Deactivate Service page documents.
 */
export const thingSpaceDeactivationReasons = ['FF'] as const;

/** Verizon ThingSpace Connectivity Management (M2M REST, carrier-apis §1). */
export class ThingSpaceClient {
  readonly #http: CarrierHttpClient;
  readonly #session: ThingSpaceSession;
  readonly #callbackPassword: string | undefined;
  readonly #account: CarrierAccount;
  readonly #reports: AccountReports;
  #callbackRegistered = false;
  readonly settings: ThingSpaceSettings;

  /** ThingSpace takes at most 100 activate requests a minute (carrier-apis §1.9), across all work. */
  readonly #activations: CallLimiter;

  constructor(
    account: CarrierAccount,
    http: CarrierHttpClient,
    guards: { activations: CallLimiter; sessions: SessionStore; generation: number },
    reports: AccountReports,
  ) {
    this.#http = http;
    this.#account = account;
    this.#activations = guards.activations;
    this.#reports = reports;
    this.settings = thingSpaceSettingsSchema.parse(account.settings);
    const credentials = thingSpaceCredentialsSchema.parse(account.credentials);
    this.#callbackPassword = credentials.callbackPassword;
    this.#session = new ThingSpaceSession(http, credentials, guards.sessions, guards.generation);
  }

  /**
   * Registers our CarrierService callback once per client, when the account has a callback URL, and
   * records every attempt's result on the account (its health in the API and the portal): a refusal
   * is not swallowed, the account polls meanwhile and says why. True when callbacks are registered.
   */
  async ensureCallback(context: CallContext): Promise<boolean> {
    const url = this.settings.callbackUrl;
    if (this.#callbackRegistered || !url) return this.#callbackRegistered;
    const at = Date.now();
    try {
      await this.registerCallback(
        { url, username: this.settings.callbackUsername, password: this.#callbackPassword },
        context,
      );
      this.#callbackRegistered = true;
      await this.#reports.callbackRegistration(this.#account.id, { at, url, ok: true, error: null });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.#reports.callbackRegistration(this.#account.id, { at, url, ok: false, error: message });
    }
    return this.#callbackRegistered;
  }

  /** Whether ThingSpace took our callback listener in this process: results then come by callback. */
  get callbacksRegistered(): boolean {
    return this.#callbackRegistered;
  }

  /**
   * An M2M call with both tokens; an expired session or token is renewed once and the call repeated.
   * Tokens that expire again before the repeat is answered (the carrier expired them twice in a row)
   * do not mean the credentials are wrong: the call fails as transient, the row is tried again later.
   */
  async #m2m<T>(call: CarrierCall<T>, context: CallContext, renewed = false): Promise<T> {
    const { headers, version } = await this.#session.headers(context);
    try {
      return (await this.#http.send({ ...call, headers }, context)).body;
    } catch (error) {
      if (!(error instanceof CarrierError) || !isExpiry(error)) throw error;
      await this.#session.expire(version);
      if (!renewed) return this.#m2m(call, context, true);
      throw new CarrierError({
        kind: 'transient',
        httpStatus: error.httpStatus,
        carrierCode: errorCodes.SESSION_EXPIRED,
        message: `ThingSpace refused tokens just renewed (${error.message}); the call is tried again later`,
        cause: error,
      });
    }
  }

  #path(path: string, version: 'v1' | 'v2' = 'v1') {
    return `/api/m2m/${version}${path}`;
  }

  /** Adds lines to the account as pre-active; "already exists" counts as done, as the original did. */
  async add(devices: DeviceId[][], context: CallContext) {
    return this.#m2m(
      {
        action: 'add',
        method: 'POST',
        path: this.#path('/devices/actions/add'),
        body: {
          state: 'preactive',
          accountName: this.settings.accountName,
          devicesToAdd: devices.map((deviceIds) => ({ deviceIds })),
        },
        responseSchema: addResultSchema,
      },
      context,
    );
  }

  /** One request for every line of the batch: they share the plan, the ZIP and the place of use. */
  async activate(
    request: {
      devices: DeviceId[][];
      servicePlan: string;
      mdnZipCode: string;
      primaryPlaceOfUse?: PlaceOfUse;
    },
    context: CallContext,
  ): Promise<string> {
    const { devices, primaryPlaceOfUse, ...rest } = request;
    // Every activate request sent counts, a repeat after a renewed session too.
    const response = await this.#m2m(
      {
        action: 'activate',
        method: 'POST',
        path: this.#path('/devices/actions/activate'),
        body: {
          accountName: this.settings.accountName,
          devices: devices.map((deviceIds) => ({ deviceIds })),
          ...rest,
          ...(primaryPlaceOfUse ? { primaryPlaceOfUse } : {}),
        },
        responseSchema: requestIdSchema,
        alsoCountedBy: this.#activations,
      },
      context,
    );
    return response.requestId;
  }

  async act(
    action: ThingSpaceAction,
    devices: DeviceId[][],
    extra: { reasonCode?: (typeof thingSpaceDeactivationReasons)[number] },
    context: CallContext,
  ): Promise<string> {
    const response = await this.#m2m(
      {
        action,
        method: 'POST',
        path: this.#path(`/devices/actions/${action}`),
        body: {
          accountName: this.settings.accountName,
          devices: devices.map((deviceIds) => ({ deviceIds })),
          ...extra,
        },
        responseSchema: requestIdSchema,
      },
      context,
    );
    return response.requestId;
  }

  async changePlan(devices: DeviceId[][], servicePlan: string, context: CallContext): Promise<string> {
    const response = await this.#m2m(
      {
        action: 'change_plan',
        method: 'PUT',
        path: this.#path('/devices/actions/plan'),
        body: {
          accountName: this.settings.accountName,
          devices: devices.map((deviceIds) => ({ deviceIds })),
          servicePlan,
        },
        responseSchema: requestIdSchema,
        // Not repeated in process after an unclear failure: the engine checks the line first.
        idempotent: false,
      },
      context,
    );
    return response.requestId;
  }

  /**
   * Change Device Identifier (`PUT /devices/{serviceType}/actions/deviceId`): `from` names the device
   * as it is, `to` its new hardware, each by the kinds the option changes (an IMEI swap names the old
   * and the new device by IMEI). The body holds only the published fields: no account name.
   */
  async changeIdentifier(
    change: { option: Change4gOption; from: DeviceId[]; to: DeviceId[] },
    context: CallContext,
  ): Promise<string> {
    const serviceType = encodeURIComponent(this.settings.changeIdentifierServiceType);
    const response = await this.#m2m(
      {
        action: 'change_identifier',
        method: 'PUT',
        path: this.#path(`/devices/${serviceType}/actions/deviceId`),
        body: { deviceIds: change.from, deviceIdsTo: change.to, change4gOption: change.option },
        responseSchema: requestIdSchema,
        idempotent: false,
      },
      context,
    );
    return response.requestId;
  }

  /** The line, or undefined when the account does not have it. */
  async getDevice(iccid: string, context: CallContext): Promise<ThingSpaceLine | undefined> {
    try {
      const list = await this.#m2m(
        {
          action: 'list_devices',
          method: 'POST',
          path: this.#path('/devices/actions/list'),
          body: { accountName: this.settings.accountName, deviceId: { kind: 'iccid', id: iccid } },
          responseSchema: listSchema,
        },
        context,
      );
      const device = list.devices[0];
      return device ? lineOf(device, iccid) : undefined;
    } catch (error) {
      if (error instanceof CarrierError && error.carrierCode?.endsWith('DeviceNotFound')) return undefined;
      throw error;
    }
  }

  /**
   * One page of the account's lines (List Devices Information, without a device), after the device
   * `after` names, only those in a state or on a plan when `filter` says so. ThingSpace answers 202
   * while more pages follow and 200 on the last.
   */
  async listDevices(
    after: number | undefined,
    context: CallContext,
    filter: LineFilter = {},
  ): Promise<{ lines: ThingSpaceLine[]; next: number | undefined }> {
    const list = await this.#m2m(
      {
        action: 'list_devices',
        method: 'POST',
        path: this.#path('/devices/actions/list'),
        body: {
          accountName: this.settings.accountName,
          ...filter,
          ...(after === undefined ? {} : { largestDeviceIdSeen: after }),
        },
        responseSchema: listSchema,
      },
      context,
    );
    const lines = list.devices.flatMap((device) => lineOf(device) ?? []);
    if (!list.hasMoreData) return { lines, next: undefined };
    const next = deviceIdAttribute(list.devices.at(-1));
    if (next === undefined || (after !== undefined && next <= after)) {
      throw new CarrierError({
        kind: 'rejected',
        carrierCode: 'BAD_RESPONSE',
        message: 'ThingSpace said more lines follow but gave no DeviceId to continue from',
      });
    }
    return { lines, next };
  }

  /** The v2 request status: overall, and per device for the devices it lists (see `statusSchema`). */
  async requestStatus(requestId: string, context: CallContext): Promise<RequestStatus> {
    return this.#m2m(
      {
        action: 'request_status',
        method: 'GET',
        path: this.#path(
          `/accounts/${encodeURIComponent(this.settings.accountName)}/requests/${encodeURIComponent(requestId)}/status`,
          'v2',
        ),
        responseSchema: statusSchema,
      },
      context,
    );
  }

  async registerCallback(
    registration: { url: string; username?: string; password?: string },
    context: CallContext,
  ): Promise<void> {
    await this.#m2m(
      {
        action: 'register_callback',
        method: 'POST',
        path: this.#path(`/callbacks/${encodeURIComponent(this.settings.accountName)}`),
        body: { name: 'CarrierService', ...registration },
        responseSchema: z.object({ accountName: z.string(), serviceName: z.string() }).loose(),
        idempotent: true,
      },
      context,
    );
  }
}
