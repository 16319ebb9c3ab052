import { randomUUID } from 'node:crypto';
import type { DeviceStore } from '../../simulator-kit/device-store.ts';
import type { Scheduler } from '../../simulator-kit/scheduler.ts';
import type { CallbackDispatcher } from './callbacks.ts';
import { type Fault, thingSpaceErrorCodes } from './errors.ts';
import {
  type DeviceId,
  idOfKind,
  LineFinder,
  lineDeviceIds,
  newLine,
  type ThingSpaceSimLine,
  upperKinds,
  withService,
} from './lines.ts';
import { type ProvisioningAction, type RuleBook, transitionRefusal } from './rules.ts';

/** The asynchronous operations; also their `action` in the call log and the callback log. */
export type ThingSpaceAction = ProvisioningAction | 'change_plan' | 'change_identifier';

export type ActionParams =
  | { action: 'activate'; servicePlan: string; mdnZipCode: string; primaryPlaceOfUse: unknown }
  | { action: 'suspend' | 'restore' }
  | { action: 'deactivate'; reasonCode: string }
  | { action: 'change_plan'; servicePlan: string }
  | { action: 'change_identifier'; deviceIdsTo: DeviceId[] };

/** Per device; the documented v1 request status enum is Pending | Success | Failure. */
type DeviceStatus = 'Pending' | 'Success' | 'Failure';

/** How many devices the v2 status lists (the review found 100 a page; paging is unconfirmed). */
export const subRequestsListed = 100;

const overallStatus = (request: TrackedRequest): 'Pending' | 'Success' | 'Failed' => {
  const statuses = request.entries.map((entry) => entry.status);
  if (statuses.includes('Pending')) return 'Pending';
  return statuses.every((each) => each === 'Success') ? 'Success' : 'Failed';
};

interface RequestEntry {
  /** As the request named the device. */
  ids: DeviceId[];
  iccid: string | undefined;
  status: DeviceStatus;
  fault?: Fault;
}

interface TrackedRequest {
  requestId: string;
  params: ActionParams;
  entries: RequestEntry[];
}

export interface RequestEngineOptions {
  store: DeviceStore<ThingSpaceSimLine>;
  scheduler: Scheduler;
  rules: RuleBook;
  callbacks: CallbackDispatcher;
  accountName: string;
  /** ThingSpace's number for a device it adds. */
  nextDeviceId: () => number;
  /** From request to each device's result (activation: to `pending activation`). */
  actionDelayMs: number;
  /** From `pending activation` to `active`. */
  activationDelayMs: number;
}

/** Names of the per-action object inside a success callback's `deviceResponse` (carrier-apis §1.8). */
const responseNames: Record<ThingSpaceAction, string> = {
  activate: 'activateResponse',
  suspend: 'suspendResponse',
  restore: 'restoreResponse',
  deactivate: 'deactivateResponse',
  change_plan: 'servicePlanResponse',
  change_identifier: 'changeIdentifierResponse',
};

type Outcome = { fault: Fault } | { response: Record<string, unknown> } | { pending: true };

/**
 * Every action answers a `requestId` at once; `actionDelayMs` later each device of the request is
 * processed in order, against the line's state and the rules at that time. A refused device fails on
 * its own (in the callback and the request status), never the whole request. An activation holds the
 * line in `pending activation` for `activationDelayMs` more; its result is final once the line is active.
 */
export class RequestEngine {
  readonly #options: RequestEngineOptions;
  readonly #requests = new Map<string, TrackedRequest>();
  /** ICCID → the activation request that holds it in `pending activation`. */
  readonly #activating = new Map<string, string>();

  constructor(options: RequestEngineOptions) {
    this.#options = options;
  }

  submit(devices: DeviceId[][], params: ActionParams): string {
    const finder = new LineFinder(this.#options.store);
    const request: TrackedRequest = {
      requestId: randomUUID(),
      params,
      entries: devices.map((ids) => ({ ids, iccid: finder.iccidOf(ids), status: 'Pending' })),
    };
    this.#requests.set(request.requestId, request);
    this.#options.scheduler.after(this.#options.actionDelayMs, () => this.#process(request));
    return request.requestId;
  }

  /**
   * v1 `GET /accounts/{acct}/requests/{id}/status`: the request's one status (`Pending | Success |
   * Failure`) and nothing per device, as Verizon documents it (meant for single-device requests).
   */
  statusV1(requestId: string) {
    const request = this.#requests.get(requestId);
    if (request === undefined) return undefined;
    const overall = overallStatus(request);
    return { requestId, status: overall === 'Failed' ? 'Failure' : overall };
  }

  /**
   * v2 `GET /v2/accounts/{acct}/requests/{id}/status`: the overall status (`Success | Failed |
   * Pending`) and `subRequests`, each device as the request named it. At most
   * {@link subRequestsListed} devices are listed (unconfirmed: Verizon documents no paging).
   */
  statusV2(requestId: string) {
    const request = this.#requests.get(requestId);
    if (request === undefined) return undefined;
    return {
      requestId,
      status: overallStatus(request),
      subRequests: request.entries.slice(0, subRequestsListed).map((entry) => ({
        ids: entry.ids.map(({ id, kind }) => ({ id, kind: kind.toLowerCase() })),
        status: entry.status === 'Failure' ? 'Failed' : entry.status,
      })),
    };
  }

  /**
   * `GET /_sim/requests/{id}` (admin, not the carrier's contract): every device of the request with its
   * status and, when refused, the fault its callback carried.
   */
  adminView(requestId: string) {
    const request = this.#requests.get(requestId);
    if (request === undefined) return undefined;
    return {
      requestId,
      action: request.params.action,
      status: overallStatus(request),
      devices: request.entries.map((entry) => ({
        ids: entry.ids,
        iccid: entry.iccid ?? null,
        status: entry.status,
        fault: entry.fault ?? null,
      })),
    };
  }

  reset(): void {
    this.#requests.clear();
    this.#activating.clear();
  }

  #process(request: TrackedRequest): void {
    const activated: RequestEntry[] = [];
    for (const entry of request.entries) {
      const outcome = this.#apply(request, entry);
      if ('pending' in outcome) activated.push(entry);
      else this.#finish(request, entry, outcome);
    }
    if (activated.length > 0) {
      this.#options.scheduler.after(this.#options.activationDelayMs, () => {
        for (const entry of activated) this.#finish(request, entry, this.#completeActivation(request, entry));
      });
    }
  }

  #apply(request: TrackedRequest, entry: RequestEntry): Outcome {
    const { store, scheduler, rules } = this.#options;
    const now = scheduler.now();
    const { params } = request;
    let line = entry.iccid === undefined ? undefined : store.get(entry.iccid);
    if (line === undefined && params.action === 'activate' && entry.iccid !== undefined) {
      // Documented: activating a device that is not on the account adds it first.
      line = {
        ...newLine(entry.iccid, this.#options.accountName, iso(now), this.#options.nextDeviceId()),
        imei: idOfKind(entry.ids, 'imei') ?? null,
      };
      store.put(line);
    }
    if (line === undefined) {
      return fail(thingSpaceErrorCodes.deviceNotFound, 'The device does not exist on the account.');
    }
    switch (params.action) {
      case 'activate':
      case 'suspend':
      case 'restore':
      case 'deactivate': {
        const refusal =
          transitionRefusal(params.action, line.state) ?? rules.provisioningRefusal(line.iccid, now);
        if (refusal !== undefined) return { fault: refusal };
        rules.recordProvisioning(line.iccid, now);
        return this.#transition(request, line, now);
      }
      case 'change_plan': {
        const refusal = rules.planChangeRefusal(line.iccid, line.state, now);
        if (refusal !== undefined) return { fault: refusal };
        if (line.servicePlan !== params.servicePlan) {
          rules.recordPlanChange(line.iccid, now);
          line = this.#save({ ...line, servicePlan: params.servicePlan, ratePlan: params.servicePlan }, now);
        }
        return { response: { deviceIds: lineDeviceIds(line, true), servicePlan: line.servicePlan } };
      }
      case 'change_identifier':
        return this.#changeIdentifier(line, params.deviceIdsTo, now);
    }
  }

  #transition(request: TrackedRequest, line: ThingSpaceSimLine, now: number): Outcome {
    const { params } = request;
    const deviceIds = lineDeviceIds(line, true);
    switch (params.action) {
      case 'activate':
        this.#activating.set(line.iccid, request.requestId);
        this.#save({ ...line, state: 'pending activation' }, now);
        return { pending: true };
      case 'suspend':
        this.#save({ ...line, state: 'suspend' }, now);
        return { response: { deviceIds } };
      case 'restore':
        this.#save({ ...line, state: 'active' }, now);
        return { response: { deviceIds } };
      case 'deactivate':
        this.#activating.delete(line.iccid);
        // Documented: only active and suspended devices have an MDN, an IP address and a plan.
        this.#save(
          {
            ...line,
            state: 'deactive',
            mdn: null,
            msisdn: null,
            ipAddress: null,
            servicePlan: null,
            ratePlan: null,
          },
          now,
        );
        return { response: { deviceIds, reasonCode: params.reasonCode } };
      default:
        return fail(thingSpaceErrorCodes.unexpectedError, 'Unexpected action');
    }
  }

  #completeActivation(request: TrackedRequest, entry: RequestEntry): Outcome {
    const { params } = request;
    const now = this.#options.scheduler.now();
    const line = entry.iccid === undefined ? undefined : this.#options.store.get(entry.iccid);
    if (
      params.action !== 'activate' ||
      line === undefined ||
      line.state !== 'pending activation' ||
      this.#activating.get(line.iccid) !== request.requestId
    ) {
      return fail(
        thingSpaceErrorCodes.deviceStateInvalid,
        `The activation was cancelled: the device is now ${line?.state ?? 'gone'}.`,
      );
    }
    this.#activating.delete(line.iccid);
    const active = this.#save(
      withService(
        {
          ...line,
          state: 'active',
          servicePlan: params.servicePlan,
          ratePlan: params.servicePlan,
          mdnZipCode: params.mdnZipCode,
          primaryPlaceOfUse: params.primaryPlaceOfUse ?? line.primaryPlaceOfUse,
          lastActivationDate: iso(now),
        },
        params.servicePlan,
      ),
      now,
    );
    return { response: { deviceIds: lineDeviceIds(active, true), ipAddress: active.ipAddress } };
  }

  /**
   * SIM swap (new ICCID) or device swap (new IMEI); the line keeps its number. Documented: the device
   * must be active with an MDN, and the new hardware must not be in the ThingSpace database already.
   */
  #changeIdentifier(line: ThingSpaceSimLine, to: DeviceId[], now: number): Outcome {
    const { store, rules } = this.#options;
    if (line.state !== 'active' || line.mdn === null) {
      return fail(
        thingSpaceErrorCodes.deviceStateInvalid,
        `The identifier of a device in state ${line.state} cannot be changed.`,
      );
    }
    const newIccid = idOfKind(to, 'iccid');
    const newImei = idOfKind(to, 'imei');
    const finder = new LineFinder(store);
    const iccidTaken = newIccid !== undefined && newIccid !== line.iccid && store.get(newIccid) !== undefined;
    const imeiOwner = newImei === undefined ? undefined : finder.find([{ kind: 'imei', id: newImei }]);
    if (iccidTaken || (imeiOwner !== undefined && imeiOwner.iccid !== line.iccid)) {
      return fail(
        thingSpaceErrorCodes.deviceIdentifierInUse,
        'The new identifier belongs to another device.',
      );
    }
    const changed = { ...line, iccid: newIccid ?? line.iccid, imei: newImei ?? line.imei };
    if (changed.iccid !== line.iccid) {
      store.delete(line.iccid);
      rules.move(line.iccid, changed.iccid);
    }
    this.#save(changed, now);
    return { response: { deviceIds: lineDeviceIds(changed, true), servicePlan: changed.servicePlan } };
  }

  #save(line: ThingSpaceSimLine, now: number): ThingSpaceSimLine {
    const saved = { ...line, updatedAt: iso(now) };
    this.#options.store.put(saved);
    return saved;
  }

  #finish(request: TrackedRequest, entry: RequestEntry, outcome: Outcome): void {
    if ('pending' in outcome) return;
    const { requestId, params } = request;
    const deviceIds = upperKinds(entry.ids);
    let body: Record<string, unknown>;
    if ('fault' in outcome) {
      entry.status = 'Failure';
      entry.fault = outcome.fault;
      body = { requestId, deviceIds, faultResponse: outcome.fault, status: 'Failed' };
    } else {
      entry.status = 'Success';
      body = {
        requestId,
        deviceIds,
        deviceResponse: { [responseNames[params.action]]: outcome.response },
        status: 'Success',
      };
    }
    this.#options.callbacks.send({
      requestId,
      action: params.action,
      iccid: entry.iccid ?? entry.ids[0].id,
      body,
    });
  }
}

const fail = (faultcode: string, faultstring: string): Outcome => ({ fault: { faultcode, faultstring } });
const iso = (epochMs: number) => new Date(epochMs).toISOString();
