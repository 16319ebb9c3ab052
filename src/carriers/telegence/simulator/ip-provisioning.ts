import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import type { Scheduler } from '../../simulator-kit/scheduler.ts';
import { ipError } from './errors.ts';
import type { TelegenceFaults } from './faults.ts';
import type { IpPool } from './ip-pool.ts';
import type { TelegenceLineStore } from './lines.ts';

/** Documented in AMOP: at most 10 subscribers per provisioning request. */
export const telegenceMaxIpSubscribersPerRequest = 10;

const indicatorSchema = z.union([z.string(), z.boolean()]).optional();
const provisionSchema = z.object({
  pdpName: z.string().min(1),
  billingAccountNumber: z.string().min(1),
  subscriber: z
    .array(
      z.object({
        subscriberNumber: z.string(),
        ipAddressRecord: z.object({ ipAddress: z.string() }),
        lteIndicator: indicatorSchema,
        defaultAPNIndicator: indicatorSchema,
        accessPointName: z.string().optional(),
        effectiveDate: z.string().optional(),
      }),
    )
    .min(1),
});
const subscriberNumbersSchema = z.object({
  subscriber: z.array(z.object({ subscriberNumber: z.string() }).loose()),
});

type Outcome = { state: 'pending' } | { state: 'provisioned' } | { state: 'failed'; message: string };

interface ProvisioningEntry {
  batchId: string;
  subscriberNumber: string;
  ipAddress: string;
  pdpName: string;
  outcome: Outcome;
}

export interface ProvisioningDeps {
  store: TelegenceLineStore;
  pool: IpPool;
  scheduler: Scheduler;
  faults: () => TelegenceFaults;
}

/**
 * Static IP provisioning (carrier-apis §3.4): a batch of up to 10 subscribers is accepted at once and
 * processed `ipProvisionMs` later; each subscriber gets its own result, readable by batch id or number.
 */
export class IpProvisioning {
  readonly #deps: ProvisioningDeps;
  readonly #batches = new Map<string, ProvisioningEntry[]>();

  constructor(deps: ProvisioningDeps) {
    this.#deps = deps;
  }

  submit(body: unknown): SimResponse {
    const subscribers = (body as { subscriber?: unknown } | null | undefined)?.subscriber;
    if (Array.isArray(subscribers) && subscribers.length > telegenceMaxIpSubscribersPerRequest) {
      return ipError(400, `At most ${telegenceMaxIpSubscribersPerRequest} subscribers per request`);
    }
    const parsed = provisionSchema.safeParse(body);
    if (!parsed.success) return ipError(400, `Invalid request: ${parsed.error.issues[0].message}`);
    const batchId = randomUUID();
    const entries = parsed.data.subscriber.map(
      (subscriber): ProvisioningEntry => ({
        batchId,
        subscriberNumber: subscriber.subscriberNumber,
        ipAddress: subscriber.ipAddressRecord.ipAddress,
        pdpName: parsed.data.pdpName,
        outcome: { state: 'pending' },
      }),
    );
    this.#batches.set(batchId, entries);
    this.#deps.scheduler.after(this.#deps.faults().ipProvisionMs, () => {
      for (const entry of entries) entry.outcome = this.#provision(entry);
    });
    return {
      status: 200,
      body: {
        message: `Your request has been received and will be submitted for processing. You may check the status with the subscriber-number or batch-id: ${batchId}`,
      },
    };
  }

  /** `GET …/provisioning/status` by the `batch-id` header, else by the `subscriber-number` header. */
  status(headers: IncomingHttpHeaders): SimResponse {
    const batchId = headerValue(headers['batch-id']);
    const subscriberNumber = headerValue(headers['subscriber-number']);
    if (batchId !== undefined) {
      const entries = this.#batches.get(batchId);
      return entries === undefined
        ? ipError(404, 'Batch not found')
        : { status: 200, body: entries.map(shown) };
    }
    if (subscriberNumber === undefined) {
      return ipError(400, 'A batch-id or subscriber-number header is required');
    }
    const entries = this.#entriesOf(subscriberNumber);
    return entries.length === 0
      ? ipError(404, `No provisioning request found for subscriber ${subscriberNumber}`)
      : { status: 200, body: entries.map(shown) };
  }

  /** The SIMs a status request concerns, for the call log. */
  statusSims(headers: IncomingHttpHeaders): string[] {
    const batchId = headerValue(headers['batch-id']);
    const subscriberNumber = headerValue(headers['subscriber-number']);
    const numbers =
      batchId !== undefined
        ? (this.#batches.get(batchId) ?? []).map((entry) => entry.subscriberNumber)
        : subscriberNumber === undefined
          ? []
          : [subscriberNumber];
    return this.#simsOf(numbers);
  }

  /** The SIMs a provisioning request names, for the call log; copes with any body. */
  submittedSims(body: unknown): string[] {
    const parsed = subscriberNumbersSchema.safeParse(body);
    return parsed.success ? this.#simsOf(parsed.data.subscriber.map((entry) => entry.subscriberNumber)) : [];
  }

  /** Pending work belongs to the scheduler, which the owner clears. */
  reset(): void {
    this.#batches.clear();
  }

  #provision(entry: ProvisioningEntry): Outcome {
    const { store, pool } = this.#deps;
    const line = store.byNumber(entry.subscriberNumber);
    const failed = (message: string): Outcome => ({ state: 'failed', message });
    if (line === undefined) return failed(`Subscriber ${entry.subscriberNumber} not found`);
    if (line.state === 'C') return failed(`Subscriber ${entry.subscriberNumber} is cancelled`);
    if (pool.reservedFor(entry.ipAddress) !== entry.pdpName) {
      return failed(`IP address ${entry.ipAddress} is not reserved for ${entry.pdpName}`);
    }
    pool.release(entry.ipAddress);
    store.put({ ...line, ipAddress: entry.ipAddress });
    return { state: 'provisioned' };
  }

  #entriesOf(subscriberNumber: string): ProvisioningEntry[] {
    return [...this.#batches.values()].flat().filter((entry) => entry.subscriberNumber === subscriberNumber);
  }

  #simsOf(numbers: string[]): string[] {
    return numbers.flatMap((number) => {
      const line = this.#deps.store.byNumber(number);
      return line === undefined ? [] : [line.iccid];
    });
  }
}

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

const progress: Record<Outcome['state'], [string, string, string]> = {
  pending: ['Pending', 'Pending', 'Pending'],
  provisioned: ['Success', 'Reserved', 'Complete'],
  failed: ['Failed', 'Failed', 'Failed'],
};

const shown = (entry: ProvisioningEntry) => {
  const [profileCheck, ipReservation, profileUpdate] = progress[entry.outcome.state];
  return {
    batchId: entry.batchId,
    subscriberNumber: entry.subscriberNumber,
    profileCheck,
    ipReservation,
    profileUpdate,
    ipAddressRecord: { ipAddress: entry.ipAddress },
    message:
      entry.outcome.state === 'failed'
        ? entry.outcome.message
        : entry.outcome.state === 'pending'
          ? 'The request is being processed'
          : 'The IP address is provisioned',
  };
};
