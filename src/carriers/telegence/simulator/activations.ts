import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import type { Scheduler } from '../../simulator-kit/scheduler.ts';
import type { TelegenceCatalog } from './catalog.ts';
import { firstIssue, telegenceError } from './errors.ts';
import type { TelegenceFaults } from './faults.ts';
import { characteristicSchema, iccidSchema, imeiSchema, newLine, type TelegenceLineStore } from './lines.ts';

/** Documented in AMOP: "API only allow maximum of 200 service activations per request". */
export const telegenceMaxActivationsPerRequest = 200;
/** Subscriber numbers are handed out from here upward, skipping numbers a line already has. */
const firstSubscriberNumber = 2_145_550_000;

type ElementStatus = 'pending' | 'reserved' | 'active' | 'rejected';

interface ActivationError {
  code: string;
  description: string;
}

/** One line of an activation request, as the simulator tracks it. */
interface ActivationElement {
  /** Submission order across requests: the earlier of two requests for one SIM gets it. */
  seq: number;
  iccid: string;
  imei: string;
  ratePlan: string;
  ban: string;
  zipCode: string | null;
  features: string[];
  contactName: string | null;
  status: ElementStatus;
  /** `/service/` is how the real service marks an eSIM-only device it refused. */
  name: string;
  error: ActivationError | null;
  subscriberNumber: string | null;
}

interface ActivationRequest {
  id: string;
  interactionDate: string;
  interactionDateComplete: string | null;
  elements: ActivationElement[];
}

/** What an element must carry; without them the whole request is refused. */
const requiredCharacteristics: Record<string, z.ZodString> = {
  sim: iccidSchema,
  IMEI: imeiSchema,
  singleUserCode: z.string().min(1, 'a SOC is required'),
};
const elementSchema = z.object({
  billingAccount: z.object({ id: z.string() }),
  relatedParty: z
    .array(
      z.object({
        role: z.string().optional(),
        firstName: z.string().optional(),
        lastName: z.string().optional(),
        address: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
  service: z.object({
    name: z.string().optional(),
    // What AT&T's line objects carry, required here as the original always sent them.
    category: z.object({ id: z.string(), name: z.string() }),
    serviceSpecification: z.object({ id: z.string().min(1), href: z.string().min(1) }),
    // The only shape the original sent (`ServiceQualification{Id: token}`, original §3.7).
    serviceQualification: z.object({ id: z.string().min(1) }).optional(),
    serviceCharacteristic: z.array(characteristicSchema).superRefine((characteristics, context) => {
      for (const [name, schema] of Object.entries(requiredCharacteristics)) {
        const value = characteristics.find((characteristic) => characteristic.name === name)?.value;
        const problem =
          value === undefined ? 'is required' : schema.safeParse(value).error?.issues[0].message;
        if (problem !== undefined) context.addIssue({ code: 'custom', message: `${name}: ${problem}` });
      }
    }),
  }),
});
type ElementBody = z.infer<typeof elementSchema>;

/** Tolerant of any body: the call log names the SIMs of refused requests too. */
export const activationSims = (body: unknown): string[] => {
  if (!Array.isArray(body)) return [];
  return body.flatMap((element) => {
    const characteristics = z
      .object({ service: z.object({ serviceCharacteristic: z.array(z.unknown()) }) })
      .safeParse(element);
    if (!characteristics.success) return [];
    return characteristics.data.service.serviceCharacteristic.flatMap((entry) => {
      const parsed = characteristicSchema.safeParse(entry);
      return parsed.success && parsed.data.name === 'sim' ? [parsed.data.value] : [];
    });
  });
};

export interface ActivationDeps {
  store: TelegenceLineStore;
  catalog: TelegenceCatalog;
  scheduler: Scheduler;
  faults: () => TelegenceFaults;
}

/**
 * New service activation (carrier-apis §3.3): a batch of up to 200 lines under one request id, each line
 * moving pending → reserved (a subscriber number, or a rejection) → active (the line exists) on timers.
 * Every line is judged on its own: a rejected line never affects its neighbours.
 */
export class ActivationEngine {
  readonly #deps: ActivationDeps;
  readonly #requests = new Map<string, ActivationRequest>();
  /** Unfinished elements by ICCID: the claims on SIMs that are not lines yet. */
  readonly #open = new Map<string, Set<ActivationElement>>();
  #seq = 0;
  #nextNumber = firstSubscriberNumber;

  constructor(deps: ActivationDeps) {
    this.#deps = deps;
  }

  submit(body: unknown): SimResponse {
    if (!Array.isArray(body)) {
      return telegenceError(400, 'The request body must be an array of service activations');
    }
    if (body.length > telegenceMaxActivationsPerRequest) {
      return telegenceError(
        400,
        `At most ${telegenceMaxActivationsPerRequest} service activations per request`,
      );
    }
    if (body.length === 0) return telegenceError(400, 'At least one service activation is required');
    const parsed = z.array(elementSchema).safeParse(body);
    if (!parsed.success) {
      return telegenceError(400, `Invalid service activation: ${firstIssue(parsed.error)}`);
    }
    const request: ActivationRequest = {
      id: randomUUID(),
      interactionDate: new Date().toISOString(),
      interactionDateComplete: null,
      elements: parsed.data.map((element) => this.#element(element)),
    };
    this.#requests.set(request.id, request);
    for (const element of request.elements) this.#claim(element);
    const stepMs = this.#deps.faults().activationStepMs;
    this.#deps.scheduler.after(stepMs, () => {
      this.#reserve(request);
      this.#deps.scheduler.after(stepMs, () => this.#activate(request));
    });
    return { status: 201, body: rendered(request) };
  }

  status(id: string): SimResponse {
    const request = this.#requests.get(id);
    return request === undefined
      ? telegenceError(404, 'Activation request not found')
      : { status: 200, body: rendered(request) };
  }

  /** The ICCIDs a request names, for the call log. */
  simsOf(id: string): string[] {
    return this.#requests.get(id)?.elements.map((element) => element.iccid) ?? [];
  }

  /** Whether an unfinished activation holds this SIM. */
  claims(iccid: string): boolean {
    return (this.#open.get(iccid)?.size ?? 0) > 0;
  }

  /** Every request with its elements as tracked (`GET /_sim/activations`). */
  list() {
    return [...this.#requests.values()].map((request) => ({
      id: request.id,
      interactionStatus: interactionStatus(request),
      interactionDate: request.interactionDate,
      interactionDateComplete: request.interactionDateComplete,
      elements: request.elements.map(({ seq: _, ...element }) => element),
    }));
  }

  /** Pending steps belong to the scheduler, which the owner clears. */
  reset(): void {
    this.#requests.clear();
    this.#open.clear();
    this.#seq = 0;
    this.#nextNumber = firstSubscriberNumber;
  }

  #element(body: ElementBody): ActivationElement {
    const characteristics = body.service.serviceCharacteristic;
    const value = (name: string) => characteristics.find((entry) => entry.name === name)?.value;
    const subscriber =
      body.relatedParty?.find((party) => party.role === 'subscriber') ?? body.relatedParty?.[0];
    const contactName = [subscriber?.firstName, subscriber?.lastName].filter(Boolean).join(' ');
    return {
      seq: this.#seq++,
      iccid: value('sim') ?? '',
      imei: value('IMEI') ?? '',
      ratePlan: value('singleUserCode') ?? '',
      ban: body.billingAccount.id,
      zipCode: value('serviceZipCode') ?? null,
      features: characteristics
        .filter((entry) => /^offeringCode\d+$/.test(entry.name))
        .map((entry) => entry.value),
      contactName: contactName === '' ? null : contactName,
      status: 'pending',
      name: '',
      error: null,
      subscriberNumber: null,
    };
  }

  #reserve(request: ActivationRequest): void {
    for (const element of request.elements) {
      const rejection = this.#rejection(element);
      if (rejection === undefined) {
        element.status = 'reserved';
        element.subscriberNumber = this.#assignNumber();
      } else {
        Object.assign(element, { status: 'rejected', ...rejection });
        this.#release(element);
      }
    }
    this.#completeIfDone(request);
  }

  #activate(request: ActivationRequest): void {
    const now = Date.now();
    for (const element of request.elements) {
      if (element.status !== 'reserved' || element.subscriberNumber === null) continue;
      this.#deps.store.put({
        ...newLine({
          iccid: element.iccid,
          msisdn: element.subscriberNumber,
          ratePlan: element.ratePlan,
          ban: element.ban,
          now,
        }),
        imei: element.imei,
        zipCode: element.zipCode,
        features: [...new Set(element.features)],
        contactName: element.contactName,
      });
      element.status = 'active';
      this.#release(element);
    }
    this.#completeIfDone(request);
  }

  /** In the order the real service would find the problems; undefined when the line can be activated. */
  #rejection(element: ActivationElement): Pick<ActivationElement, 'name' | 'error'> | undefined {
    const { catalog } = this.#deps;
    const { rejectIccids, esimOnlyTacs } = this.#deps.faults();
    const refused = (code: string, description: string) => ({ name: '', error: { code, description } });
    if (Object.hasOwn(rejectIccids, element.iccid)) return refused('REJECTED', rejectIccids[element.iccid]);
    if (this.#simInUse(element)) return refused('SIM_IN_USE', `SIM ${element.iccid} is already in use`);
    if (!catalog.ratePlans.has(element.ratePlan)) {
      return refused('INVALID_SOC', `Rate plan ${element.ratePlan} is not valid`);
    }
    const unknownFeature = element.features.find((feature) => !catalog.features.has(feature));
    if (unknownFeature !== undefined) {
      return refused('INVALID_FEATURE', `Offering code ${unknownFeature} is not valid`);
    }
    const account = catalog.accounts.get(element.ban);
    if (account === undefined || account.status !== 'active') {
      return refused('INVALID_BAN', `Billing account ${element.ban} is not found or not active`);
    }
    if (element.zipCode === null || !/^\d{5}$/.test(element.zipCode)) {
      return refused('INVALID_ZIP', `Service ZIP code ${element.zipCode ?? '(none)'} is not valid`);
    }
    if (esimOnlyTacs.includes(element.imei.slice(0, 8))) return { name: '/service/', error: null };
    return undefined;
  }

  /**
   * On a line that is not cancelled, or claimed by another unfinished element: one that is reserved, or
   * still pending but submitted earlier (it will be reserved first).
   */
  #simInUse(element: ActivationElement): boolean {
    const line = this.#deps.store.get(element.iccid);
    if (line !== undefined && line.state !== 'C') return true;
    for (const other of this.#open.get(element.iccid) ?? []) {
      if (other === element) continue;
      if (other.status === 'reserved' || (other.status === 'pending' && other.seq < element.seq)) return true;
    }
    return false;
  }

  #assignNumber(): string {
    for (;;) {
      const number = String(this.#nextNumber++);
      if (this.#deps.store.byNumber(number) === undefined) return number;
    }
  }

  #claim(element: ActivationElement): void {
    const claims = this.#open.get(element.iccid) ?? new Set();
    claims.add(element);
    this.#open.set(element.iccid, claims);
  }

  #release(element: ActivationElement): void {
    const claims = this.#open.get(element.iccid);
    claims?.delete(element);
    if (claims?.size === 0) this.#open.delete(element.iccid);
  }

  #completeIfDone(request: ActivationRequest): void {
    const done = request.elements.every(({ status }) => status === 'active' || status === 'rejected');
    if (done && request.interactionDateComplete === null) {
      request.interactionDateComplete = new Date().toISOString();
    }
  }
}

const interactionStatus = (request: ActivationRequest) =>
  request.interactionDateComplete === null ? 'InProgress' : 'Completed';

/** The answer of the POST and of every poll: one element per line, in request order, sharing the id. */
const rendered = (request: ActivationRequest) =>
  request.elements.map((element) => ({
    id: request.id,
    interactionStatus: interactionStatus(request),
    interactionDate: request.interactionDate,
    interactionDateComplete: request.interactionDateComplete,
    service: {
      name: element.name,
      status: element.status,
      error: element.error,
      subscriberNumber: element.subscriberNumber,
      serviceCharacteristic: [
        { name: 'sim', value: element.iccid },
        { name: 'IMEI', value: element.imei },
      ],
    },
  }));
