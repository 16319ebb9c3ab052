/**
 * The shared carrier HTTP client (DESIGN §2.6–2.8, §4.1 `carriers/http.ts`): every carrier client sends
 * its requests through {@link CarrierHttpClient.send}, which
 *
 * - waits for the carrier account's limiter before each HTTP attempt (and pauses it on a 429 / 503
 *   `Retry-After`);
 * - classifies every failure as a {@link CarrierError} (`transient` / `rejected` / `auth` / `rule`);
 * - retries transient failures a few times in process (cockatiel retry, exponential backoff with jitter,
 *   never sooner than `Retry-After`), behind a circuit breaker (cockatiel `ConsecutiveBreaker`);
 * - hands exactly one redacted {@link AuditRecord} per HTTP attempt to the caller;
 * - reuses keep-alive connections through one undici `Agent` shared by every client.
 *
 * Long retries are the durable queue's job: an error that is not retried here (or whose short retries
 * are spent) is thrown with its `kind` and `retryAfterMs` for the engine to act on.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  type RetryPolicy,
  retry,
} from 'cockatiel';
import { Agent, type Dispatcher, request } from 'undici';
import { prettifyError, type ZodType } from 'zod';
import { CarrierError, type CarrierErrorKind, isCarrierError } from './carrier-error.ts';
import type { CallLimiter } from './limiter.ts';
import { redactForAudit, redactHeaders, redactString, redactUrl } from './redaction.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One carrier call. */
export interface CarrierCall<T = unknown> {
  /** What this call does, for the audit log (e.g. `jasper.updateStatus`). */
  action: string;
  method: HttpMethod;
  /** Joined to the base URL (`/devices/x` or `devices/x`); an absolute `http(s)://` URL is used as is. */
  path: string;
  query?: Query;
  /**
   * Sent as JSON (`content-type: application/json`); a `URLSearchParams` is sent form-encoded
   * (`application/x-www-form-urlencoded`, e.g. OAuth token requests). `undefined` sends no body.
   */
  body?: unknown;
  /** Extra headers for this call (on top of the client's auth headers). */
  headers?: Readonly<Record<string, string>>;
  /** Validates (and may transform) a 2xx body; a mismatch is a `rejected` error coded `BAD_RESPONSE`. */
  responseSchema?: ZodType<T>;
  /**
   * Whether sending the call twice is harmless. Default: true for GET / HEAD / PUT / DELETE, false for
   * POST / PATCH. A non-idempotent call is retried in process only when the carrier certainly did not
   * act on it (429, 503, connection refused / DNS failure); after a timeout, a reset connection or
   * another 5xx it is thrown at once so the engine can reconcile instead of re-sending blindly.
   */
  idempotent?: boolean;
}

export interface CallContext {
  /** Receives one record per HTTP attempt, synchronously, right after the attempt. */
  audit: (entry: AuditRecord) => void;
  /** Aborts waiting for the limiter, the request in flight, and further retries. */
  signal?: AbortSignal;
}

export interface CarrierResponse<T> {
  status: number;
  body: T;
  headers: ResponseHeaders;
}

/** One HTTP attempt, as the audit log stores it (secrets redacted, bodies ≤ 64 KiB). */
export interface AuditRecord {
  action: string;
  system: string;
  method: HttpMethod;
  /** Full URL with query; no user info; secret-looking query parameters redacted. */
  url: string;
  request: { headers: Record<string, string>; body: unknown };
  /** Parsed JSON or text (redacted, truncated), `null` for an empty body or no response. */
  response: unknown;
  /** `null` when no response arrived (network error, timeout, abort). */
  httpStatus: number | null;
  durationMs: number;
  outcome: 'success' | CarrierErrorKind;
  /** The error message when `outcome` is not `success`. */
  error?: string;
  /** The carrier's error code (or ours: `TIMEOUT`, `NETWORK_ERROR`, `BAD_RESPONSE`), when known. */
  carrierCode?: string;
  /** 1 for the first attempt of a `send`, 2 for its first short retry, … */
  attempt: number;
  /** Epoch ms when the request was sent. */
  at: number;
}

export interface ParsedCarrierError {
  code?: string;
  message?: string;
}

export interface CarrierHttpClientOptions {
  /** The system name in audit records and messages, e.g. `jasper`. */
  system: string;
  baseUrl: string;
  /** Auth headers, evaluated before every attempt (outside the limiter, so it may itself call the carrier). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  limiter: CallLimiter;
  /** Per HTTP attempt, from the moment the limiter lets it start until the body is read. Default 30 s. */
  timeoutMs?: number;
  /** Short in-process retries of transient errors. Default 2 (so at most 3 attempts). */
  retries?: number;
  /**
   * The longest wait before a short retry (backoff cap). A `Retry-After` or open circuit longer than
   * this is not waited for in process: the error is thrown for the durable queue. Default 10 s.
   */
  maxRetryWaitMs?: number;
  /** Reads the carrier's error envelope of a non-2xx response. */
  parseError?: (status: number, body: unknown) => ParsedCarrierError | undefined;
  /** Carrier-specific classification of a non-2xx response; `undefined` keeps the default. */
  classify?: (status: number, body: unknown, parsed: ParsedCarrierError) => CarrierErrorKind | undefined;
  /** A wait the carrier states in its body instead of `Retry-After` (Rev.io's "wait N seconds"), in ms. */
  retryAfterFromBody?: (status: number, body: unknown, parsed: ParsedCarrierError) => number | undefined;
  /** Default: open after 5 consecutive transient / auth failures, half-open after 30 s. */
  breaker?: { consecutiveFailures: number; halfOpenAfterMs: number };
  /** Default: the process-wide keep-alive agent ({@link sharedAgent}). */
  dispatcher?: Dispatcher;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_MAX_RETRY_WAIT_MS = 10_000;
const DEFAULT_BREAKER = { consecutiveFailures: 5, halfOpenAfterMs: 30_000 };
const INITIAL_BACKOFF_MS = 200;
/** A 429 without `Retry-After` still pauses the account this long. */
const DEFAULT_429_PAUSE_MS = 1_000;
/** Longest `Retry-After` honoured (a broken header must not stop an account for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
const ERROR_SNIPPET_CHARS = 200;

/** Errors meaning the request never reached the carrier: safe to re-send even when not idempotent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

let agent: Agent | undefined;

/**
 * The keep-alive agent shared by every carrier client. Connections per origin are not capped here (the
 * limiters cap concurrency per account, and several accounts may share an origin), so an origin always
 * has at least `maxConcurrent` connections available.
 */
export const sharedAgent = (): Agent => {
  agent ??= new Agent({
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000 },
  });
  return agent;
};

/** Closes the shared agent (graceful shutdown); the next `sharedAgent()` makes a new one. */
export const closeSharedAgent = async (): Promise<void> => {
  const current = agent;
  agent = undefined;
  await current?.close();
};

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds (decimals tolerated) or an HTTP-date; a date
 * in the past is 0. `undefined` when absent or unparseable. Capped at {@link MAX_RETRY_AFTER_MS}.
 */
export const parseRetryAfter = (
  value: string | readonly string[] | undefined | null,
  now = Date.now(),
): number | undefined => {
  const raw = (Array.isArray(value) ? value[0] : (value as string | undefined | null))?.trim();
  if (!raw) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(raw)) ms = Number(raw) * 1000;
  else {
    const at = Date.parse(raw);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(ms)));
};

const joinUrl = (baseUrl: string, path: string, query: Query | undefined): string => {
  const url = /^https?:\/\//i.test(path)
    ? new URL(path)
    : new URL(baseUrl.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, ''));
  if (query) {
    for (const [name, value] of Object.entries(query)) {
      const values: readonly QueryValue[] = Array.isArray(value) ? value : [value as QueryValue];
      for (const item of values)
        if (item !== undefined && item !== null) url.searchParams.append(name, String(item));
    }
  }
  return url.toString();
};

const headerValue = (headers: ResponseHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const errorCode = (error: unknown): string | undefined => {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

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
  readonly #parseError: CarrierHttpClientOptions['parseError'];
  readonly #classify: CarrierHttpClientOptions['classify'];
  readonly #retryAfterFromBody: CarrierHttpClientOptions['retryAfterFromBody'];
  readonly #dispatcher: Dispatcher | undefined;
  readonly #halfOpenAfterMs: number;
  /** Errors the retry policy may retry (transient, safe to re-send, short enough wait). */
  readonly #retryable = new WeakSet<object>();
  readonly #retry: RetryPolicy;
  readonly #breaker: CircuitBreakerPolicy;
  #openedAt = 0;

  constructor(options: CarrierHttpClientOptions) {
    const retries = options.retries ?? DEFAULT_RETRIES;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const breaker = options.breaker ?? DEFAULT_BREAKER;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError('retries must be an integer >= 0');
    if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be > 0');
    if (!Number.isInteger(breaker.consecutiveFailures) || breaker.consecutiveFailures < 1) {
      throw new RangeError('breaker.consecutiveFailures must be an integer >= 1');
    }
    new URL(options.baseUrl); // throws on a malformed base URL, at configuration time
    this.system = options.system;
    this.#baseUrl = options.baseUrl;
    this.#headers = options.headers;
    this.#limiter = options.limiter;
    this.#timeoutMs = timeoutMs;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
    this.#parseError = options.parseError;
    this.#classify = options.classify;
    this.#retryAfterFromBody = options.retryAfterFromBody;
    this.#dispatcher = options.dispatcher;
    this.#halfOpenAfterMs = breaker.halfOpenAfterMs;

    this.#breaker = circuitBreaker(
      handleWhen((error) => isCarrierError(error) && (error.kind === 'transient' || error.kind === 'auth')),
      {
        halfOpenAfter: breaker.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(breaker.consecutiveFailures),
      },
    );
    this.#breaker.onStateChange((state) => {
      if (state === CircuitState.Open) this.#openedAt = Date.now();
    });
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

  /** For health pages. `half_open` also when the open period is over and the next call will probe. */
  breakerState(): BreakerState {
    switch (this.#breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Open:
        return this.#msUntilHalfOpen() > 0 ? 'open' : 'half_open';
      default:
        return 'open'; // isolated
    }
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
        return await this.#breaker.execute(() => this.#attempt(call, context, attempt + 1), signal);
      } catch (error) {
        if (signal?.aborted && !isCarrierError(error)) throw signal.reason;
        if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) throw this.#circuitOpenError(call);
        throw error;
      }
    }, signal);
    if (!outcome.ok) throw outcome.error;
    return outcome.response;
  }

  #msUntilHalfOpen(): number {
    return Math.max(0, this.#openedAt + this.#halfOpenAfterMs - Date.now());
  }

  #circuitOpenError(call: CarrierCall<unknown>): CarrierError {
    const retryAfterMs = this.#msUntilHalfOpen();
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
    const url = joinUrl(this.#baseUrl, call.path, call.query);
    // Outside the limiter: a token refresh may itself go through this account's limiter.
    const authHeaders = this.#headers ? await this.#headers() : {};
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
    let payload: string | undefined;
    if (call.body instanceof URLSearchParams) {
      payload = call.body.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (call.body !== undefined) {
      payload = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, authHeaders, call.headers);

    const raw = await this.#limiter.schedule(
      () => this.#exchange(call.method, url, headers, payload, signal),
      signal,
    );

    const base = {
      action: call.action,
      system: this.system,
      method: call.method,
      url: redactUrl(url),
      request: { headers: redactHeaders(headers), body: redactForAudit(call.body) },
      attempt,
      at: raw.at,
      durationMs: raw.durationMs,
    };

    if (raw.type === 'failure') {
      const callerAborted = signal?.aborted === true && !raw.timedOut;
      const error = callerAborted
        ? undefined
        : new CarrierError({
            kind: 'transient',
            carrierCode: raw.timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
            message: raw.timedOut
              ? `${this.system} ${call.action}: no response within ${this.#timeoutMs} ms`
              : `${this.system} ${call.action}: ${errorCode(raw.error) ?? 'network error'}: ${errorMessage(raw.error)}`,
            cause: raw.error,
          });
      context.audit({
        ...base,
        response: null,
        httpStatus: null,
        outcome: 'transient',
        error: error?.message ?? `aborted by caller: ${errorMessage(signal?.reason)}`,
        ...(error ? { carrierCode: error.carrierCode } : {}),
      });
      if (!error) throw signal?.reason;
      const notSent = NOT_SENT_CODES.has(errorCode(raw.error) ?? '');
      if (this.#isIdempotent(call) || notSent) this.#retryable.add(error);
      throw error;
    }

    const auditResponse = redactForAudit(raw.body);
    const { status } = raw;
    if (status >= 200 && status < 300) {
      let problem: string | undefined;
      let body: unknown = raw.body;
      if (raw.invalidJson) problem = 'the body is not valid JSON';
      else if (call.responseSchema) {
        const parsed = call.responseSchema.safeParse(raw.body);
        if (parsed.success) body = parsed.data;
        else problem = prettifyError(parsed.error);
      }
      if (problem !== undefined) {
        const error = new CarrierError({
          kind: 'rejected',
          httpStatus: status,
          carrierCode: 'BAD_RESPONSE',
          message: `${this.system} ${call.action}: HTTP ${status} with an unexpected response: ${problem}`,
        });
        context.audit({
          ...base,
          response: auditResponse,
          httpStatus: status,
          outcome: 'rejected',
          error: error.message,
          carrierCode: 'BAD_RESPONSE',
        });
        return { ok: false, error };
      }
      context.audit({ ...base, response: auditResponse, httpStatus: status, outcome: 'success' });
      return { ok: true, response: { status, body: body as T, headers: raw.headers } };
    }

    const error = this.#errorFor(call, raw.status, raw.headers, raw.body);
    context.audit({
      ...base,
      response: auditResponse,
      httpStatus: status,
      outcome: error.kind,
      error: error.message,
      ...(error.carrierCode ? { carrierCode: error.carrierCode } : {}),
    });
    if (error.retryAfterMs !== undefined && error.kind === 'transient')
      this.#limiter.pauseFor(error.retryAfterMs);
    if (error.kind === 'transient') {
      const carrierDidNotAct = status === 429 || status === 503;
      const waitOk = error.retryAfterMs === undefined || error.retryAfterMs <= this.#maxRetryWaitMs;
      if ((this.#isIdempotent(call) || carrierDidNotAct) && waitOk) this.#retryable.add(error);
    }
    if (error.kind === 'transient' || error.kind === 'auth') throw error; // counts for the breaker
    return { ok: false, error };
  }

  #isIdempotent(call: CarrierCall<unknown>): boolean {
    return call.idempotent ?? (call.method !== 'POST' && call.method !== 'PATCH');
  }

  #errorFor(
    call: CarrierCall<unknown>,
    status: number,
    headers: ResponseHeaders,
    body: unknown,
  ): CarrierError {
    let parsed: ParsedCarrierError = {};
    try {
      parsed = this.#parseError?.(status, body) ?? {};
    } catch {
      parsed = {};
    }
    let kind: CarrierErrorKind;
    if (status === 429 || status === 503 || status === 408 || status >= 500) kind = 'transient';
    else if (status === 401 || status === 403) kind = 'auth';
    else kind = 'rejected';
    kind = this.#classify?.(status, body, parsed) ?? kind;

    let retryAfterMs =
      parseRetryAfter(headerValue(headers, 'retry-after')) ??
      this.#retryAfterFromBody?.(status, body, parsed);
    if (retryAfterMs === undefined && status === 429) retryAfterMs = DEFAULT_429_PAUSE_MS;

    let detail = parsed.message;
    if (detail === undefined && typeof body === 'string' && body.length > 0) {
      detail = redactString(body.slice(0, ERROR_SNIPPET_CHARS));
    }
    const message =
      `${this.system} ${call.action}: HTTP ${status}` +
      (parsed.code ? ` ${parsed.code}` : '') +
      (detail ? `: ${detail}` : '');
    return new CarrierError({
      kind,
      message,
      httpStatus: status,
      ...(parsed.code !== undefined ? { carrierCode: parsed.code } : {}),
      ...(kind === 'transient' && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  /** One HTTP exchange; never throws (failures are returned, so the caller can audit them). */
  async #exchange(
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    payload: string | undefined,
    signal: AbortSignal | undefined,
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
        dispatcher: this.#dispatcher ?? sharedAgent(),
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
