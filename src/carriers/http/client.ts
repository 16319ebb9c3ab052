/**
 * The shared carrier HTTP client (DESIGN §2.6–2.8, §4.1 `carriers/http/`): every carrier client sends
 * its requests through {@link CarrierHttpClient.send}, which
 *
 * - waits for the carrier account's limiter before each HTTP attempt (and pauses it on a 429 / 503
 *   `Retry-After`);
 * - classifies every failure as a {@link CarrierError} (`transient` / `rejected` / `auth` / `rule`);
 * - retries transient failures a few times in process (cockatiel retry, exponential backoff with jitter,
 *   never sooner than `Retry-After`), behind the account's circuit breaker (`limits/circuit.ts`: in
 *   process, or shared by every worker);
 * - hands exactly one redacted {@link AuditRecord} per HTTP attempt to the caller;
 * - reuses keep-alive connections through one undici `Agent` shared by every client, which refuses
 *   addresses the outbound address policy does not allow (`agent.ts`).
 *
 * The pure parts sit beside it: encoding a call (`call.ts`), classifying an answer (`classify.ts`) and
 * the audit record of an attempt (`audit-record.ts`).
 *
 * Long retries are the durable queue's job: an error that is not retried here (or whose short retries
 * are spent) is thrown with its `kind` and `retryAfterMs` for the engine to act on.
 */
import {
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
} from 'cockatiel';
import { type Dispatcher, request } from 'undici';
import { prettifyError } from 'zod';
import type { HttpMethod } from '../../core/audit-record.ts';
import { CarrierError, isCarrierError } from '../../core/carrier-error.ts';
import type { CallLimiter, SendMoment } from '../limits/call-limiter.ts';
import { type AccountCircuit, type BreakerState, CircuitOpenError } from '../limits/circuit.ts';
import { auditedRequest, auditRecord } from './audit-record.ts';
import {
  type CallContext,
  type CarrierCall,
  type CarrierResponse,
  type EncodedRequest,
  encodeRequest,
  isIdempotent,
  type ResponseHeaders,
} from './call.ts';
import {
  type ErrorReading,
  errorCode,
  errorForBadResponse,
  errorForFailure,
  errorForStatus,
  errorMessage,
  headerValue,
  neverSent,
} from './classify.ts';
import { observingSend } from './send-moment.ts';

export interface CarrierHttpClientOptions extends ErrorReading {
  /** The system name in audit records and messages, e.g. `jasper`. */
  system: string;
  baseUrl: string;
  /** Auth headers, evaluated before every attempt (outside the limiter, so it may itself call the carrier). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  limiter: CallLimiter;
  /** The account's circuit breaker: shared by its clients (and, with shared guards, by every worker). */
  circuit: AccountCircuit;
  /** Per HTTP attempt, from the moment the limiter lets it start until the body is read. Default 30 s. */
  timeoutMs?: number;
  /** Short in-process retries of transient errors. Default 2 (so at most 3 attempts). */
  retries?: number;
  /**
   * The longest wait before a short retry (backoff cap). A `Retry-After` or open circuit longer than
   * this is not waited for in process: the error is thrown for the durable queue. Default 10 s.
   */
  maxRetryWaitMs?: number;
  /** The keep-alive agent that makes the connections, with the outbound address policy (`outboundAgent`). */
  dispatcher: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_MAX_RETRY_WAIT_MS = 10_000;
const INITIAL_BACKOFF_MS = 200;

/** Makes the backoff never shorter than the failed attempt's `retryAfterMs`. */
const atLeastRetryAfter = (
  base: IBackoffFactory<unknown>,
): IBackoffFactory<IRetryBackoffContext<unknown>> => {
  const minimum = (context: IRetryBackoffContext<unknown>): number => {
    const error = 'error' in context.result ? context.result.error : undefined;
    return isCarrierError(error) ? (error.retryAfterMs ?? 0) : 0;
  };
  const wrapBackoff = (
    backoff: IBackoff<unknown>,
    context: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => ({
    duration: Math.max(backoff.duration, minimum(context)),
    next: (nextContext) => wrapBackoff(backoff.next(nextContext), nextContext),
  });
  return { next: (context) => wrapBackoff(base.next(context), context) };
};

type RawAttempt =
  | {
      type: 'response';
      status: number;
      headers: ResponseHeaders;
      body: unknown;
      invalidJson: boolean;
      at: number;
      durationMs: number;
    }
  | { type: 'failure'; error: unknown; timedOut: boolean; at: number; durationMs: number };

/** A call's result as seen by the breaker: carrier refusals of a request are not carrier failures. */
type BreakerOutcome<T> = { ok: true; response: CarrierResponse<T> } | { ok: false; error: CarrierError };

export class CarrierHttpClient {
  readonly system: string;
  readonly #baseUrl: string;
  readonly #headers: CarrierHttpClientOptions['headers'];
  readonly #limiter: CallLimiter;
  readonly #timeoutMs: number;
  readonly #maxRetryWaitMs: number;
  readonly #reading: ErrorReading;
  readonly #dispatcher: Dispatcher;
  readonly #circuit: AccountCircuit;
  /** Errors the retry policy may retry (transient, safe to re-send, short enough wait). */
  readonly #retryable = new WeakSet<object>();
  readonly #retry: RetryPolicy;

  constructor(options: CarrierHttpClientOptions) {
    const retries = options.retries ?? DEFAULT_RETRIES;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError('retries must be an integer >= 0');
    if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be > 0');
    new URL(options.baseUrl); // throws on a malformed base URL, at configuration time
    this.system = options.system;
    this.#baseUrl = options.baseUrl;
    this.#headers = options.headers;
    this.#limiter = options.limiter;
    this.#timeoutMs = timeoutMs;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
    this.#reading = {
      parseError: options.parseError,
      classify: options.classify,
      retryAfterFromBody: options.retryAfterFromBody,
    };
    this.#dispatcher = options.dispatcher;
    this.#circuit = options.circuit;
    this.#retry = retry(
      handleWhen((error) => typeof error === 'object' && error !== null && this.#retryable.has(error)),
      {
        maxAttempts: retries,
        backoff: atLeastRetryAfter(
          new ExponentialBackoff({ initialDelay: INITIAL_BACKOFF_MS, maxDelay: this.#maxRetryWaitMs }),
        ),
      },
    );
  }

  /** For health pages: the account's circuit as this process last saw it. */
  breakerState(): BreakerState {
    return this.#circuit.state();
  }

  /**
   * Sends one call. Resolves with a 2xx response (body validated by `responseSchema` when given);
   * otherwise throws a {@link CarrierError} (or the abort reason when `context.signal` aborts).
   */
  async send<T = unknown>(call: CarrierCall<T>, context: CallContext): Promise<CarrierResponse<T>> {
    const { signal } = context;
    const outcome = await this.#retry.execute(async ({ attempt }) => {
      signal?.throwIfAborted();
      try {
        return await this.#attempt(call, context, attempt + 1);
      } catch (error) {
        if (signal?.aborted && !isCarrierError(error)) throw signal.reason;
        if (error instanceof CircuitOpenError) throw this.#circuitOpenError(call, error.retryAfterMs);
        throw error;
      }
    }, signal);
    if (!outcome.ok) throw outcome.error;
    return outcome.response;
  }

  #circuitOpenError(call: CarrierCall<unknown>, retryAfterMs: number): CarrierError {
    const error = new CarrierError({
      kind: 'transient',
      carrierCode: 'CIRCUIT_OPEN',
      retryAfterMs,
      message: `${this.system} ${call.action}: circuit open after repeated failures; next try in ${retryAfterMs} ms`,
    });
    if (retryAfterMs <= this.#maxRetryWaitMs) this.#retryable.add(error);
    return error;
  }

  async #attempt<T>(call: CarrierCall<T>, context: CallContext, attempt: number): Promise<BreakerOutcome<T>> {
    const { signal } = context;
    signal?.throwIfAborted();
    // Outside the limiter: a token refresh may itself go through this account's limiter.
    const authHeaders = this.#headers ? await this.#headers() : {};
    const encoded = encodeRequest(this.#baseUrl, call, authHeaders);
    const openFor = this.#circuit.openFor();
    if (openFor > 0) throw new CircuitOpenError(openFor); // known open: no waiting in line for nothing
    const limiters = call.alsoCountedBy ? [call.alsoCountedBy, this.#limiter] : [this.#limiter];
    // The circuit is asked when the limiters let the request go, not before it waits for them: a call
    // queued behind others must not go out once the circuit has opened meanwhile (for every worker,
    // with shared guards).
    return scheduleOnAll(
      limiters,
      (moment) =>
        this.#circuit.execute(
          async () =>
            this.#read(
              call,
              context,
              attempt,
              encoded,
              await this.#exchange(call.method, encoded, signal, moment),
            ),
          signal,
        ),
      signal,
    );
  }

  /**
   * What an exchange means: a response, or a refusal returned as such; a transient or auth failure is
   * thrown (it counts against the circuit). Exactly one audit record per exchange.
   */
  #read<T>(
    call: CarrierCall<T>,
    context: CallContext,
    attempt: number,
    encoded: EncodedRequest,
    raw: RawAttempt,
  ): BreakerOutcome<T> {
    const { signal } = context;
    const what = `${this.system} ${call.action}`;
    const request = auditedRequest(this.system, call, encoded, {
      attempt,
      at: raw.at,
      durationMs: raw.durationMs,
      bodyBytes: context.auditBodyBytes,
    });

    if (raw.type === 'failure') {
      if (signal?.aborted === true && !raw.timedOut) {
        context.audit(
          auditRecord(request, null, { message: `aborted by caller: ${errorMessage(signal.reason)}` }),
        );
        throw signal.reason;
      }
      const error = errorForFailure(what, raw, this.#timeoutMs);
      context.audit(auditRecord(request, null, error));
      if (error.kind === 'transient' && (isIdempotent(call) || neverSent(raw.error)))
        this.#retryable.add(error);
      throw error;
    }

    const answer = { httpStatus: raw.status, body: raw.body };
    if (raw.status >= 200 && raw.status < 300) {
      let problem: string | undefined;
      let body: unknown = raw.body;
      if (raw.invalidJson) problem = 'the body is not valid JSON';
      else if (call.responseSchema) {
        const parsed = call.responseSchema.safeParse(raw.body);
        if (parsed.success) body = parsed.data;
        else problem = prettifyError(parsed.error);
      }
      if (problem !== undefined) {
        const error = errorForBadResponse(what, raw.status, problem);
        context.audit(auditRecord(request, answer, error));
        return { ok: false, error };
      }
      context.audit(auditRecord(request, answer, undefined));
      return { ok: true, response: { status: raw.status, body: body as T, headers: raw.headers } };
    }

    const error = errorForStatus(what, raw, this.#reading);
    context.audit(auditRecord(request, answer, error));
    if (error.retryAfterMs !== undefined && error.kind === 'transient')
      this.#limiter.pauseFor(error.retryAfterMs);
    if (error.kind === 'transient') {
      const carrierDidNotAct = raw.status === 429 || raw.status === 503;
      const waitOk = error.retryAfterMs === undefined || error.retryAfterMs <= this.#maxRetryWaitMs;
      if ((isIdempotent(call) || carrierDidNotAct) && waitOk) this.#retryable.add(error);
    }
    if (error.kind === 'transient' || error.kind === 'auth') throw error; // counts for the breaker
    return { ok: false, error };
  }

  /** One HTTP exchange; never throws (failures are returned, so the caller can audit them). */
  async #exchange(
    method: HttpMethod,
    { url, headers, payload }: EncodedRequest,
    signal: AbortSignal | undefined,
    moment: SendMoment,
  ): Promise<RawAttempt> {
    const at = Date.now();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await request(url, {
        method,
        headers,
        body: payload,
        signal: combined,
        dispatcher: observingSend(this.#dispatcher, moment),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      const text = await response.body.text();
      const contentType = headerValue(response.headers, 'content-type') ?? '';
      let body: unknown = null;
      let invalidJson = false;
      if (text.length > 0) {
        if (/[/+]json\b/i.test(contentType)) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
            invalidJson = true;
          }
        } else body = text;
      }
      return {
        type: 'response',
        status: response.statusCode,
        headers: response.headers,
        body,
        invalidJson,
        at,
        durationMs: elapsed(),
      };
    } catch (error) {
      const code = errorCode(error);
      const timedOut =
        timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      return { type: 'failure', error, timedOut, at, durationMs: elapsed() };
    }
  }
}

/**
 * Runs `fn` within every limiter in turn (the outermost first), its send moments reported to all: a
 * call counted by a second limit (ThingSpace's activate requests) holds a slot of each.
 */
function scheduleOnAll<T>(
  limiters: readonly CallLimiter[],
  fn: (moment: SendMoment) => Promise<T>,
  signal: AbortSignal | undefined,
  outer: readonly SendMoment[] = [],
): Promise<T> {
  const [first, ...rest] = limiters;
  if (!first) {
    return fn({
      sending: () => outer.every((moment) => moment.sending()),
      sent: () => {
        for (const moment of outer) moment.sent();
      },
    });
  }
  return first.schedule((moment) => scheduleOnAll(rest, fn, signal, [...outer, moment]), signal);
}
