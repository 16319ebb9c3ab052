import type { Dispatcher } from 'undici';
import type { CarrierErrorKind } from '../../core/carrier-error.ts';
import type { CarrierAccount } from '../../core/flow.ts';
import type { LimiterRegistry } from '../limits/limiter.ts';
import { CarrierHttpClient } from './client.ts';

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

/** What a client needs of the account it calls for: where, and within which limits. */
export type CarrierEndpoint = Pick<CarrierAccount, 'id' | 'baseUrl' | 'limits'>;

export type CarrierHttpClientFactory = (
  endpoint: CarrierEndpoint,
  options: CarrierHttpOptions,
) => CarrierHttpClient;

/**
 * Clients whose calls are paced by `limiters`: every client of an account shares that account's
 * limiter, so its limits hold across bulk changes (and, with a shared registry, across processes).
 * They connect through `dispatcher`, the agent that applies the outbound address policy.
 */
export const carrierHttpClients =
  (limiters: LimiterRegistry, dispatcher: Dispatcher): CarrierHttpClientFactory =>
  (endpoint, options) =>
    new CarrierHttpClient({
      ...options,
      dispatcher,
      baseUrl: endpoint.baseUrl,
      timeoutMs: endpoint.limits.requestTimeoutMs,
      // A short burst of 5xx is ridden out by row retries; a longer run of failures stops calls for a while.
      breaker: { consecutiveFailures: 10, halfOpenAfterMs: 5_000 },
      limiter: limiters.getLimiter(endpoint.id, {
        requestsPerSecond: endpoint.limits.requestsPerSecond,
        maxConcurrent: endpoint.limits.maxConcurrent,
      }),
    });
