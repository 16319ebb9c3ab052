import { z } from 'zod';
import { CarrierError, type CarrierErrorKind } from '../../core/carrier-error.ts';
import type { CarrierAccount } from '../../core/flow.ts';
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

export const thingSpaceSettingsSchema = z
  .object({
    accountName: z.string().min(1),
    /** Used for activations whose rows name none. */
    defaultServicePlan: z.string().min(1).optional(),
    defaultMdnZipCode: z
      .string()
      .regex(/^\d{5}$/)
      .optional(),
    /** Our public callback URL for this account; without it results are polled. */
    callbackUrl: z.url().optional(),
    callbackUsername: z.string().min(1).optional(),
  })
  .loose()
  .refine((settings) => !settings.callbackUrl || settings.callbackUsername, {
    message:
      'callbackUrl needs callbackUsername (and credentials.callbackPassword): callbacks are authenticated',
    path: ['callbackUsername'],
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

export const httpOptions: Omit<CarrierHttpOptions, 'headers'> = {
  system: 'thingspace',
  parseError: parseThingSpaceError,
  classify: classifyThingSpaceError,
};

export interface DeviceId {
  kind: string;
  id: string;
}

const requestIdSchema = z.object({ requestId: z.string().min(1) }).loose();
const addResultSchema = z.array(
  z
    .object({ deviceIds: z.array(z.object({ id: z.string(), kind: z.string() })), response: z.string() })
    .loose(),
);
const faultSchema = z
  .object({ faultcode: z.string().optional(), faultstring: z.string().optional() })
  .loose();
const statusSchema = z
  .object({
    requestId: z.string(),
    status: z.string(),
    subrequests: z
      .array(
        z
          .object({
            ids: z.object({ kind: z.string(), id: z.string() }).loose(),
            status: z.string(),
            faultResponse: faultSchema.optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();
export type RequestStatus = z.infer<typeof statusSchema>;

const listedDeviceSchema = z
  .object({
    deviceIds: z.array(z.object({ id: z.string(), kind: z.string() })),
    ipAddress: z.string().optional(),
    carrierInformations: z.array(z.object({ state: z.string(), servicePlan: z.string().optional() }).loose()),
  })
  .loose();
const listSchema = z.object({ hasMoreData: z.boolean(), devices: z.array(listedDeviceSchema) }).loose();

/** A line as ThingSpace reports it. */
export interface ThingSpaceLine {
  iccid: string;
  imei: string | null;
  msisdn: string | null;
  state: string;
  servicePlan: string | null;
  ipAddress: string | null;
}

const idOfKind = (ids: DeviceId[], kind: string) =>
  ids.find((id) => id.kind.toLowerCase() === kind)?.id ?? null;

export const lineFromIds = (ids: DeviceId[], ipAddress?: string | null) => ({
  iccid: idOfKind(ids, 'iccid'),
  imei: idOfKind(ids, 'imei'),
  msisdn: idOfKind(ids, 'msisdn') ?? idOfKind(ids, 'mdn'),
  ipAddress: ipAddress && ipAddress !== '0.0.0.0' ? ipAddress : null,
});

export type ThingSpaceAction = 'suspend' | 'restore' | 'deactivate';

/** Verizon ThingSpace Connectivity Management (M2M REST, carrier-apis §1). */
export class ThingSpaceClient {
  readonly #http: CarrierHttpClient;
  readonly #session: ThingSpaceSession;
  readonly #callbackPassword: string | undefined;
  #callbackRegistered = false;
  readonly settings: ThingSpaceSettings;

  /** ThingSpace takes at most 100 activate requests a minute (carrier-apis §1.9), across all work. */
  readonly #activations: CallLimiter;

  constructor(
    account: CarrierAccount,
    http: CarrierHttpClient,
    guards: { activations: CallLimiter; sessions: SessionStore; generation: number },
  ) {
    this.#http = http;
    this.#activations = guards.activations;
    this.settings = thingSpaceSettingsSchema.parse(account.settings);
    const credentials = thingSpaceCredentialsSchema.parse(account.credentials);
    this.#callbackPassword = credentials.callbackPassword;
    this.#session = new ThingSpaceSession(http, credentials, guards.sessions, guards.generation);
  }

  /** Registers our CarrierService callback once per client, when the account has a callback URL. */
  async ensureCallback(context: CallContext): Promise<void> {
    const url = this.settings.callbackUrl;
    if (this.#callbackRegistered || !url) return;
    await this.registerCallback(
      { url, username: this.settings.callbackUsername, password: this.#callbackPassword },
      context,
    );
    this.#callbackRegistered = true;
  }

  /** An M2M call with both tokens; an expired session or token is renewed once and the call repeated. */
  async #m2m<T>(call: CarrierCall<T>, context: CallContext, renewed = false): Promise<T> {
    const headers = await this.#session.headers(context);
    try {
      return (await this.#http.send({ ...call, headers }, context)).body;
    } catch (error) {
      if (renewed || !(error instanceof CarrierError)) throw error;
      if (error.carrierCode?.endsWith('SessionToken.Expired')) await this.#session.expireSession();
      else if (error.httpStatus === 401) await this.#session.expireAccessToken();
      else throw error;
      return this.#m2m(call, context, true);
    }
  }

  #path(path: string) {
    return `/api/m2m/v1${path}`;
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

  async activate(
    request: { devices: DeviceId[][]; servicePlan: string; mdnZipCode: string; primaryPlaceOfUse?: unknown },
    context: CallContext,
  ): Promise<string> {
    const { devices, ...rest } = request;
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
    extra: { reasonCode?: string },
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

  async changeIdentifier(from: DeviceId[], to: DeviceId[], context: CallContext): Promise<string> {
    const response = await this.#m2m(
      {
        action: 'change_identifier',
        method: 'PUT',
        path: this.#path('/devices/actions/deviceidentifier'),
        body: { accountName: this.settings.accountName, deviceIds: from, deviceIdsTo: to },
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
      if (!device) return undefined;
      const ids = lineFromIds(device.deviceIds, device.ipAddress);
      return {
        iccid: ids.iccid ?? iccid,
        imei: ids.imei,
        msisdn: ids.msisdn,
        ipAddress: ids.ipAddress,
        state: device.carrierInformations[0]?.state.toLowerCase() ?? 'unknown',
        servicePlan: device.carrierInformations[0]?.servicePlan ?? null,
      };
    } catch (error) {
      if (error instanceof CarrierError && error.carrierCode?.endsWith('DeviceNotFound')) return undefined;
      throw error;
    }
  }

  async requestStatus(requestId: string, context: CallContext): Promise<RequestStatus> {
    return this.#m2m(
      {
        action: 'request_status',
        method: 'GET',
        path: this.#path(
          `/accounts/${encodeURIComponent(this.settings.accountName)}/requests/${encodeURIComponent(requestId)}/status`,
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
        idempotent: true,
      },
      context,
    );
  }
}
