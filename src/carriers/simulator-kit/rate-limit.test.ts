import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noFaults } from './faults.ts';
import { Limiter, TokenBucket } from './rate-limit.ts';

const fakeClock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('TokenBucket', () => {
  it('allows a burst of `rate` requests, then refills `rate` tokens per second', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(clock.now);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => bucket.take(5)),
      [0, 0, 0, 0, 0],
    );
    assert.equal(bucket.take(5), 200, 'one token takes 1/rate seconds');
    clock.advance(150);
    assert.equal(Math.round(bucket.take(5)), 50);
    clock.advance(50);
    assert.equal(bucket.take(5), 0);
    clock.advance(10_000);
    assert.equal(
      [1, 2, 3, 4, 5, 6].map(() => bucket.take(5)).filter((wait) => wait === 0).length,
      5,
      'capped',
    );
  });

  it('starts full again when the rate changes, and holds at least one token below 1/s', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(clock.now);
    for (let i = 0; i < 5; i += 1) bucket.take(5);
    assert.equal(bucket.take(2), 0);
    assert.equal(bucket.take(0.5), 0);
    assert.equal(bucket.take(0.5), 2000);
  });
});

describe('Limiter', () => {
  it('caps concurrency, releases a slot once, and reports Retry-After in whole seconds of at least 1', () => {
    const clock = fakeClock();
    const limits = { ...noFaults, maxConcurrent: 2, rateLimitPerSecond: 0.25 };
    const limiter = new Limiter(() => limits, clock.now);
    const first = limiter.admit();
    assert.ok(first.ok);
    assert.equal(first.inFlight, 1);
    const second = limiter.admit();
    assert.deepEqual(second, { ok: false, reason: 'rate_limited', retryAfterSeconds: 4 });
    limits.rateLimitPerSecond = 1000;
    const third = limiter.admit();
    assert.ok(third.ok);
    assert.deepEqual(limiter.admit(), { ok: false, reason: 'too_many_concurrent', retryAfterSeconds: 1 });
    first.release();
    first.release();
    const fourth = limiter.admit();
    assert.ok(fourth.ok && fourth.inFlight === 2, 'a double release frees one slot only');
    assert.equal(limiter.admit().ok, false);
  });
});
