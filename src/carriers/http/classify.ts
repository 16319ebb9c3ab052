import { CarrierError, type CarrierErrorKind } from '../../core/carrier-error.ts';
import { isAddressNotAllowed } from './address-policy.ts';
import type { ResponseHeaders } from './call.ts';
import { redactString } from './redaction.ts';

/** What a carrier's error envelope says, as the carrier module reads it. */
export interface ParsedCarrierError {
  code?: string;
  message?: string;
}

/** How a carrier module reads and classifies its own error answers. */
export interface ErrorReading {
  /** Reads the carrier's error envelope of a non-2xx response. */
  parseError?: (status: number, body: unknown) => ParsedCarrierError | undefined;
  /** Carrier-specific classification of a non-2xx response; `undefined` keeps the default. */
  classify?: (status: number, body: unknown, parsed: ParsedCarrierError) => CarrierErrorKind | undefined;
  /** A wait the carrier states in its body instead of `Retry-After` (Rev.io's "wait N seconds"), in ms. */
  retryAfterFromBody?: (status: number, body: unknown, parsed: ParsedCarrierError) => number | undefined;
}

/** A 429 without `Retry-After` still pauses the account this long. */
const DEFAULT_429_PAUSE_MS = 1_000;
/** Longest `Retry-After` honoured (a broken header must not stop an account for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
const ERROR_SNIPPET_CHARS = 200;

/** Errors meaning the request never reached the carrier: safe to re-send even when not idempotent. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  // Stopped before its first byte because its limiter slot had passed (send-moment.ts).
  'BULKCHANGE_SEND_WINDOW_MISSED',
]);

export const headerValue = (headers: ResponseHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The system error code of a failure (`ECONNRESET`, `UND_ERR_…`), looked for down its causes. */
export const errorCode = (error: unknown): string | undefined => {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

/** An error and its causes, outermost first (a few levels: undici wraps connection errors). */
const causes = (error: unknown): unknown[] => {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
};

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Whether a failed exchange certainly never reached the carrier (refused, not resolved). */
export const neverSent = (error: unknown): boolean => NOT_SENT_CODES.has(errorCode(error) ?? '');

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

/**
 * A non-2xx answer as a {@link CarrierError}: 408, 429 and 5xx are transient (with the carrier's wait),
 * 401 and 403 auth, the rest a refusal of this request — unless the carrier module classifies it.
 */
export function errorForStatus(
  what: string,
  answer: { status: number; headers: ResponseHeaders; body: unknown },
  reading: ErrorReading,
): CarrierError {
  const { status, headers, body } = answer;
  let parsed: ParsedCarrierError = {};
  try {
    parsed = reading.parseError?.(status, body) ?? {};
  } catch {
    parsed = {};
  }
  let kind: CarrierErrorKind;
  if (status === 429 || status === 503 || status === 408 || status >= 500) kind = 'transient';
  else if (status === 401 || status === 403) kind = 'auth';
  else kind = 'rejected';
  kind = reading.classify?.(status, body, parsed) ?? kind;

  let retryAfterMs =
    parseRetryAfter(headerValue(headers, 'retry-after')) ??
    reading.retryAfterFromBody?.(status, body, parsed);
  if (retryAfterMs === undefined && status === 429) retryAfterMs = DEFAULT_429_PAUSE_MS;

  let detail = parsed.message;
  if (detail === undefined && typeof body === 'string' && body.length > 0) {
    detail = redactString(body.slice(0, ERROR_SNIPPET_CHARS));
  }
  const message =
    `${what}: HTTP ${status}` + (parsed.code ? ` ${parsed.code}` : '') + (detail ? `: ${detail}` : '');
  return new CarrierError({
    kind,
    message,
    httpStatus: status,
    ...(parsed.code !== undefined ? { carrierCode: parsed.code } : {}),
    ...(kind === 'transient' && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/**
 * No answer: a timeout, or the connection failed (either way the call may have reached the carrier); or
 * the outbound address policy refused the connection, so nothing was sent. A refusal is final for the
 * row (`rejected`, never retried) and says only that the policy refused it: no address, no answer.
 */
export function errorForFailure(
  what: string,
  failure: { error: unknown; timedOut: boolean },
  timeoutMs: number,
): CarrierError {
  const refused = causes(failure.error).find(isAddressNotAllowed);
  if (refused) {
    return new CarrierError({
      kind: 'rejected',
      carrierCode: refused.code,
      message: `${what}: ${refused.message}`,
    });
  }
  return new CarrierError({
    kind: 'transient',
    carrierCode: failure.timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
    message: failure.timedOut
      ? `${what}: no response within ${timeoutMs} ms`
      : `${what}: ${errorCode(failure.error) ?? 'network error'}: ${errorMessage(failure.error)}`,
    cause: failure.error,
  });
}

/** A 2xx answer that is not what the carrier documents: the change may have been applied. */
export const errorForBadResponse = (what: string, status: number, problem: string): CarrierError =>
  new CarrierError({
    kind: 'rejected',
    httpStatus: status,
    carrierCode: 'BAD_RESPONSE',
    message: `${what}: HTTP ${status} with an unexpected response: ${problem}`,
  });
