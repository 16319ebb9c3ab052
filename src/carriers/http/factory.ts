import type { Dispatcher } from 'undici';
import type { CarrierErrorKind } from '../../core/carrier-error.ts';
import type { CarrierAccount } from '../../core/flow.ts';
import type { CarrierGuards } from '../limits/guards.ts';
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

/** A short burst of 5xx is ridden out by row retries; a longer run of failures stops calls for a while. */
const ACCOUNT_CIRCUIT = { consecutiveFailures: 10, halfOpenAfterMs: 5_000 };

/**
 * Clients guarded by `guards`: every client of an account shares that account's limiter and circuit,
 * so its limits hold across bulk changes (and, with shared guards, across processes). They connect
 * through `dispatcher`, the agent that applies the outbound address policy.
 */
export const carrierHttpClients =
  (guards: CarrierGuards, dispatcher: Dispatcher): CarrierHttpClientFactory =>
  (endpoint, options) =>
    new CarrierHttpClient({
      ...options,
      dispatcher,
      baseUrl: endpoint.baseUrl,
      timeoutMs: endpoint.limits.requestTimeoutMs,
      circuit: guards.circuit(endpoint.id, ACCOUNT_CIRCUIT),
      limiter: guards.limiter(endpoint.id, {
        requestsPerSecond: endpoint.limits.requestsPerSecond,
        maxConcurrent: endpoint.limits.maxConcurrent,
      }),
    });
