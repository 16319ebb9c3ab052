/**
 * Errors a task handler throws to steer the queue. They carry a brand property so that a copy of this
 * module loaded twice (or an error rebuilt from another realm) is still recognised.
 */

const NON_RETRYABLE = Symbol.for('bulkchange.queue.NonRetryableError');
const RETRY_AFTER = Symbol.for('bulkchange.queue.RetryAfterError');

/** Fail the job now, whatever attempts remain. The job is kept in state `failed` with this message. */
export class NonRetryableError extends Error {
  readonly [NON_RETRYABLE] = true;
  /** A stable code shown in `last_error`, e.g. `UNKNOWN_TASK`. */
  readonly code: string | undefined;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NonRetryableError';
    this.code = options?.code;
  }
}

/**
 * Retry after exactly `delayMs` (no backoff, no jitter), e.g. a carrier's `Retry-After`. The attempt
 * still counts against `max_attempts`, so every job has a bounded number of runs (DESIGN §2.7): a
 * flow that must wait without spending attempts records a waiting state and enqueues a delayed job.
 */
export class RetryAfterError extends Error {
  readonly [RETRY_AFTER] = true;
  readonly delayMs: number;

  constructor(delayMs: number, message = `retry after ${delayMs} ms`, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryAfterError';
    this.delayMs = Number.isFinite(delayMs) && delayMs > 0 ? Math.ceil(delayMs) : 0;
  }
}

const hasBrand = (error: unknown, brand: symbol): boolean =>
  typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;

export const isNonRetryableError = (error: unknown): error is NonRetryableError =>
  hasBrand(error, NON_RETRYABLE);

export const isRetryAfterError = (error: unknown): error is RetryAfterError => hasBrand(error, RETRY_AFTER);

/** The text kept in `jobs.last_error`: name, code when there is one, message; bounded in size. */
export function describeError(error: unknown, maxLength = 2000): string {
  let text: string;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    text = `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  } else {
    text = `thrown value: ${safeString(error)}`;
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
