// The plugin's types add createRateLimit() to Fastify (it is registered in http/app.ts).
import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';

/**
 * Failed authentication attempts (API keys, portal sign-ins, callback credentials), counted per client
 * address and per key prefix over a minute. An address past the limit is refused with 429 before any
 * key is looked at, valid ones included, so guessing from it is as slow as the limit. A key prefix past
 * the limit turns its failures into 429s, but a valid key with that prefix still works: whoever learns
 * a key's first characters cannot lock its holder out.
 */
export interface AttemptThrottle {
  /**
   * Before the key is looked at: throws `429 TOO_MANY_REQUESTS` (with `Retry-After`) for a throttled
   * address. Given an account (a portal user's e-mail address), also for that account past its limit:
   * a password, unlike a key, can be guessed, so a guessed account is closed to every address for the
   * rest of the minute, its right password included.
   */
  admit(request: FastifyRequest, account?: string): Promise<void>;
  /**
   * After a failed attempt: counts it against the address and the key prefix, and throws the 429 when
   * either is now past the limit (the caller answers 401 otherwise).
   */
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

  const refuse = (seconds: number) =>
    new AppError('TOO_MANY_REQUESTS', `Too many failed attempts; try again in ${seconds} s`, [], undefined, {
      'retry-after': String(seconds),
    });
  const spent = (limit: Awaited<ReturnType<typeof byAddress>>) => !limit.isAllowed && limit.remaining <= 0;
  const waitSeconds = (limit: Awaited<ReturnType<typeof byAddress>>) =>
    limit.isAllowed ? 1 : Math.max(1, limit.ttlInSeconds);

  return {
    async admit(request, account) {
      const limit = await byAddress(request, { increment: false });
      if (spent(limit)) throw refuse(waitSeconds(limit));
      if (account === undefined) return;
      prefixes.set(request, account);
      const accountLimit = await byPrefix(request, { increment: false });
      if (spent(accountLimit)) throw refuse(waitSeconds(accountLimit));
    },
    async failed(request, keyPrefix) {
      const limits = [await byAddress(request)];
      if (keyPrefix !== undefined) {
        prefixes.set(request, keyPrefix);
        limits.push(await byPrefix(request));
      }
      const over = limits.filter((limit) => !limit.isAllowed && limit.isExceeded);
      if (over.length > 0) throw refuse(Math.max(...over.map(waitSeconds)));
    },
  };
}
