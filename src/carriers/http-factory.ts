import type { CarrierAccount } from './carrier.ts';
import type { CarrierErrorKind } from './carrier-error.ts';
import { CarrierHttpClient } from './http.ts';
import { limiterRegistry } from './limiter.ts';

export interface CarrierHttpOptions {
  system: string;
  headers: () => Record<string, string> | Promise<Record<string, string>>;
  parseError: (status: number, body: unknown) => { code?: string; message?: string };
  classify?: (
    status: number,
    body: unknown,
    parsed: { code?: string; message?: string },
  ) => CarrierErrorKind | undefined;
  retryAfterFromBody?: (
    status: number,
    body: unknown,
    parsed: { code?: string; message?: string },
  ) => number | undefined;
}

export type CarrierHttpClientFactory = (
  account: CarrierAccount,
  options: CarrierHttpOptions,
) => CarrierHttpClient;

/** Every client of an account shares that account's limiter, so its limits hold across bulk changes. */
export const createCarrierHttpClient: CarrierHttpClientFactory = (account, options) =>
  new CarrierHttpClient({
    ...options,
    baseUrl: account.baseUrl,
    timeoutMs: account.limits.requestTimeoutMs,
    // A short burst of 5xx is ridden out by row retries; a longer run of failures stops calls for a while.
    breaker: { consecutiveFailures: 10, halfOpenAfterMs: 5_000 },
    limiter: limiterRegistry.getLimiter(account.id, {
      requestsPerSecond: account.limits.requestsPerSecond,
      maxConcurrent: account.limits.maxConcurrent,
    }),
  });
