import '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';

/**
 * Failed authentication attempts, counted per client address and per key prefix over a minute (API
 * keys, portal sign-ins, callback credentials): past the limit, every attempt from there is refused
 * with 429 before any key is looked at, valid ones included, so guessing is as slow as the limit.
 */
export interface AttemptThrottle {
  /** Throws `429 TOO_MANY_REQUESTS` (with `Retry-After`) when the address or the key prefix is throttled. */
  check(request: FastifyRequest, keyPrefix?: string): Promise<void>;
  /** Counts one failed attempt against the address and the key prefix. */
  failed(request: FastifyRequest, keyPrefix?: string): Promise<void>;
}

/** The part of a presented key a throttle counts by: as long as the prefix stored with every key. */
export const attemptPrefix = (key: string | undefined) => (key ? key.slice(0, 10) : undefined);

const WINDOW_MS = 60_000;

/**
 * The throttle on `@fastify/rate-limit` (registered on `app` with `global: false`): its local store
 * counts within a window and keeps a bounded number of keys (least recently used go first). A peek
 * (`increment: false`) checks without counting, so only failures count.
 */
export function attemptThrottle(
  app: FastifyInstance,
  options: { failuresPerMinute: number },
): AttemptThrottle {
  const prefixes = new WeakMap<FastifyRequest, string>();
  const limits = { max: options.failuresPerMinute, timeWindow: WINDOW_MS };
  // The plugin's own key for an address (an IPv6 client counts by its subnet, not each address).
  const byAddress = app.createRateLimit(limits);
  const byPrefix = app.createRateLimit({
    ...limits,
    keyGenerator: (request) => `key-prefix:${prefixes.get(request)}`,
  });

  return {
    async check(request, keyPrefix) {
      const limits = [await byAddress(request, { increment: false })];
      if (keyPrefix !== undefined) {
        prefixes.set(request, keyPrefix);
        limits.push(await byPrefix(request, { increment: false }));
      }
      const exhausted = limits.filter((limit) => !limit.isAllowed && limit.remaining <= 0);
      if (exhausted.length === 0) return;
      const seconds = Math.max(1, ...exhausted.map((limit) => (limit.isAllowed ? 0 : limit.ttlInSeconds)));
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `Too many failed attempts; try again in ${seconds} s`,
        [],
        undefined,
        { 'retry-after': String(seconds) },
      );
    },
    async failed(request, keyPrefix) {
      await byAddress(request);
      if (keyPrefix !== undefined) {
        prefixes.set(request, keyPrefix);
        await byPrefix(request);
      }
    },
  };
}
