import type { Scheduler } from '../../simulator-kit/scheduler.ts';

/** `POST /callbacks/{accountName}` (carrier-apis §1.8); one registration per service name. */
export interface CallbackRegistration {
  accountName: string;
  serviceName: string;
  url: string;
  username?: string;
  password?: string;
}

/** One attempt to deliver one CarrierService message (`GET /_sim/callbacks`). */
export interface CallbackDelivery {
  /** When the attempt was made (ISO-8601, by the simulator's clock). */
  at: string;
  requestId: string;
  /** The operation whose result this is, e.g. `activate`. */
  action: string;
  iccid: string;
  url: string;
  /** `callbackCount` of the message: 1 for the first attempt. */
  attempt: number;
  /** The message's own `status`: `Success` or `Failed`. */
  result: string;
  /** The listener's answer; null when it could not be reached (`error` says why). */
  httpStatus: number | null;
  error: string | null;
  delivered: boolean;
  /** The JSON body that was sent. */
  body: Record<string, unknown>;
}

export interface CallbackFilter {
  requestId?: string;
  iccid?: string;
  action?: string;
  delivered?: boolean;
}

/** What a device's final result carries, without the per-attempt fields. */
export interface CallbackMessage {
  requestId: string;
  action: string;
  iccid: string;
  body: Record<string, unknown>;
}

export interface CallbackDispatcherOptions {
  scheduler: Scheduler;
  /** Delay before each retry; its length is the number of retries (documented: 3, 5 minutes apart). */
  retryDelaysMs: number[];
  timeoutMs: number;
  /** Listener requests in flight at once. */
  concurrency: number;
  /** The `callbacks` fault; checked before every attempt. */
  enabled: () => boolean;
}

interface Job {
  registration: CallbackRegistration;
  message: CallbackMessage;
  attempt: number;
}

/**
 * Sends CarrierService callbacks, one per device, to the registered URL, with the registered username
 * and password echoed in the body (as ThingSpace does) and also sent as HTTP Basic. A non-2xx answer,
 * a timeout or a refused connection is retried after `retryDelaysMs[n]`; the message's `callbackCount`
 * and `maxCallbackThreshold` say which attempt it is. The target is the registration at the time the
 * result became final; deregistering or switching callbacks off stops later attempts.
 */
export class CallbackDispatcher {
  readonly #options: CallbackDispatcherOptions;
  readonly #registrations = new Map<string, CallbackRegistration>();
  #deliveries: CallbackDelivery[] = [];
  #queue: Job[] = [];
  #inFlight = 0;
  #generation = 0;
  #idleWaiters: (() => void)[] = [];
  #abort = new AbortController();

  constructor(options: CallbackDispatcherOptions) {
    this.#options = options;
  }

  register(registration: CallbackRegistration): void {
    this.#registrations.set(registration.serviceName, registration);
  }

  registrations(): CallbackRegistration[] {
    return [...this.#registrations.values()];
  }

  deregister(serviceName: string): boolean {
    return this.#registrations.delete(serviceName);
  }

  /** A device's result is final: send it if a CarrierService listener is registered and callbacks are on. */
  send(message: CallbackMessage): void {
    const registration = this.#registrations.get('CarrierService');
    if (registration === undefined || !this.#options.enabled()) return;
    this.#enqueue({ registration, message, attempt: 1 });
  }

  deliveries(filter: CallbackFilter = {}): CallbackDelivery[] {
    return this.#deliveries.filter(
      (delivery) =>
        (filter.requestId === undefined || delivery.requestId === filter.requestId) &&
        (filter.iccid === undefined || delivery.iccid === filter.iccid) &&
        (filter.action === undefined || delivery.action === filter.action) &&
        (filter.delivered === undefined || delivery.delivered === filter.delivered),
    );
  }

  /** Resolves when nothing is queued or in flight; returns the attempts made meanwhile. */
  async drain(): Promise<number> {
    const before = this.#deliveries.length;
    if (!this.idle) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    return this.#deliveries.length - before;
  }

  get idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight === 0;
  }

  /** Forgets registrations and deliveries; aborts what is in flight (its outcome is not logged). */
  reset(): void {
    this.#registrations.clear();
    this.#deliveries = [];
    this.#queue = [];
    this.#generation += 1;
    this.#abort.abort();
    this.#abort = new AbortController();
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift() as Job;
      this.#inFlight += 1;
      void this.#attempt(job).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
        if (this.idle) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      });
    }
    if (this.idle) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #attempt(job: Job): Promise<void> {
    if (!this.#options.enabled() || this.#registrations.get('CarrierService') === undefined) return;
    const generation = this.#generation;
    const { registration, message, attempt } = job;
    const maxAttempts = this.#options.retryDelaysMs.length + 1;
    const body = {
      username: registration.username ?? '',
      password: registration.password ?? '',
      ...message.body,
      callbackCount: attempt,
      maxCallbackThreshold: maxAttempts,
    };
    const at = new Date(this.#options.scheduler.now()).toISOString();
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(registration.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...basicAuth(registration) },
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      httpStatus = response.status;
      await response.body?.cancel();
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
    if (generation !== this.#generation) return;
    const delivered = httpStatus !== null && httpStatus >= 200 && httpStatus < 300;
    this.#deliveries.push({
      at,
      requestId: message.requestId,
      action: message.action,
      iccid: message.iccid,
      url: registration.url,
      attempt,
      result: String(message.body.status),
      httpStatus,
      error,
      delivered,
      body,
    });
    if (!delivered && attempt < maxAttempts) {
      this.#options.scheduler.after(this.#options.retryDelaysMs[attempt - 1], () =>
        this.#enqueue({ ...job, attempt: attempt + 1 }),
      );
    }
  }
}

const basicAuth = (registration: CallbackRegistration): Record<string, string> =>
  registration.username === undefined && registration.password === undefined
    ? {}
    : {
        authorization: `Basic ${Buffer.from(`${registration.username ?? ''}:${registration.password ?? ''}`).toString('base64')}`,
      };
