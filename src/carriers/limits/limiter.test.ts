import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Limiter } from './limiter.ts';

/** Largest number of starts inside any window of `windowMs` (inclusive of both ends). */
const maxInWindow = (starts: number[], windowMs: number): number => {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] > windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
};

describe('Limiter', () => {
  it('spaces starts: 40 calls at 20/s take ≥ ~1.9 s and no 1-second window holds more than 20', async () => {
    const limiter = new Limiter({ requestsPerSecond: 20, maxConcurrent: 100 });
    const starts: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 40 }, () =>
        limiter.schedule(async () => {
          starts.push(performance.now());
        }),
      ),
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 1900, `took ${elapsed} ms`);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
    assert.ok(maxInWindow(starts, 1000) <= 20, `max ${maxInWindow(starts, 1000)} in a second`);
    // Due 51 ms apart; one let go up to 5 ms late does not push the next back (ADR 0060).
    const gaps = starts.slice(1).map((s, i) => s - starts[i]);
    assert.ok(Math.min(...gaps) >= 46, `min gap ${Math.min(...gaps)}`);
    assert.equal(limiter.stats().started, 40);
  });

  it('does not burst after being idle', async () => {
    const limiter = new Limiter({ requestsPerSecond: 10, maxConcurrent: 10 });
    await limiter.schedule(async () => {});
    await delay(300);
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 3 }, () => limiter.schedule(async () => void starts.push(performance.now()))),
    );
    // Two spacings of 102 ms, less the 5 ms a late request may be absorbed by (ADR 0060).
    assert.ok(starts[2] - starts[0] >= 199, `3 starts within ${starts[2] - starts[0]} ms`);
  });

  it('with no safety margin, spaces requests from the moment the previous one really left, not from when it was let go', async () => {
    // A busy event loop holds the first request back for 150 ms after the limiter let it go. With no
    // margin there is no lateness to absorb (ADR 0060): the spacing counts from the moment it left.
    const limiter = new Limiter({ requestsPerSecond: 10, maxConcurrent: 4 }, { safetyMargin: 0 });
    const leftAt: number[] = [];
    const letGoAt: number[] = [];
    await Promise.all(
      [150, 0, 0].map((heldMs) =>
        limiter.schedule(async (moment) => {
          letGoAt.push(performance.now());
          await delay(heldMs);
          assert.equal(moment.sending(), true);
          leftAt.push(performance.now());
          moment.sent();
          await delay(20); // the answer
        }),
      ),
    );
    assert.ok(
      letGoAt[1] - leftAt[0] >= 99,
      `second let go ${letGoAt[1] - leftAt[0]} ms after the first left`,
    );
    assert.ok(leftAt[2] - leftAt[1] >= 99, `${leftAt[2] - leftAt[1]} ms between the last two`);
  });

  it('a request that settles without saying it left counts as leaving when it settles', async () => {
    const limiter = new Limiter({ requestsPerSecond: 10, maxConcurrent: 4 }, { safetyMargin: 0 });
    let settledAt = 0;
    const failing = limiter.schedule(async () => {
      await delay(60);
      settledAt = performance.now();
      throw new Error('connection refused');
    });
    const next = limiter.schedule(async () => performance.now());
    await assert.rejects(failing, /connection refused/);
    assert.ok((await next) - settledAt >= 99, 'spaced from the settle');
  });

  it('caps concurrency', async () => {
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 3 });
    let running = 0;
    let peak = 0;
    const observed: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, () =>
        limiter.schedule(async () => {
          running++;
          peak = Math.max(peak, running);
          observed.push(limiter.stats().inFlight);
          await delay(20);
          running--;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.ok(observed.every((n) => n <= 3));
    assert.deepEqual(limiter.stats(), { inFlight: 0, waiting: 0, started: 12, pausedUntil: null });
  });

  it('pauseFor stops every start until the pause ends', async () => {
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 5 });
    const t0 = Date.now();
    limiter.pauseFor(300);
    const paused = limiter.stats().pausedUntil;
    assert.ok(paused !== null && paused >= t0 + 300);
    limiter.pauseFor(50); // never shortens
    assert.equal(limiter.stats().pausedUntil, paused);
    const started = await Promise.all([1, 2].map(() => limiter.schedule(async () => Date.now())));
    for (const at of started) assert.ok(at >= t0 + 299, `started after ${at - t0} ms`);
    assert.equal(limiter.stats().pausedUntil, null);
  });

  it('an abort removes a waiting caller with the abort reason; others still run in order', async () => {
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 1 });
    let release = () => {};
    const blocker = limiter.schedule(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const order: string[] = [];
    const aborted = limiter.schedule(async () => order.push('aborted'), controller.signal);
    const next = limiter.schedule(async () => order.push('next'));
    assert.equal(limiter.stats().waiting, 2);
    const reason = new Error('cancelled by test');
    controller.abort(reason);
    await assert.rejects(aborted, (error) => error === reason);
    assert.equal(limiter.stats().waiting, 1);
    release();
    await Promise.all([blocker, next]);
    assert.deepEqual(order, ['next']);
    // Already aborted: rejected at once, never queued.
    await assert.rejects(
      limiter.schedule(async () => 1, AbortSignal.abort(reason)),
      (e) => e === reason,
    );
  });

  it('is FIFO across callers', async () => {
    const limiter = new Limiter({ requestsPerSecond: 200, maxConcurrent: 1 });
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.schedule(async () => {
          order.push(i);
          await delay(1);
        }),
      ),
    );
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('unlimited runs everything at once', async () => {
    for (const requestsPerSecond of [null, Number.POSITIVE_INFINITY]) {
      const limiter = new Limiter({ requestsPerSecond, maxConcurrent: Number.POSITIVE_INFINITY });
      const t0 = performance.now();
      let peak = 0;
      let running = 0;
      await Promise.all(
        Array.from({ length: 200 }, () =>
          limiter.schedule(async () => {
            peak = Math.max(peak, ++running);
            await delay(10);
            running--;
          }),
        ),
      );
      assert.equal(peak, 200);
      assert.ok(performance.now() - t0 < 500);
    }
  });

  it('propagates fn errors and keeps going', async () => {
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 1 });
    await assert.rejects(
      limiter.schedule(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    await assert.rejects(
      limiter.schedule(() => {
        throw new Error('sync boom');
      }),
      /sync boom/,
    );
    assert.equal(await limiter.schedule(async () => 42), 42);
    assert.equal(limiter.stats().inFlight, 0);
  });

  it('update applies to waiting work', async () => {
    const limiter = new Limiter({ requestsPerSecond: 1, maxConcurrent: 1 });
    const t0 = performance.now();
    const runs = Array.from({ length: 5 }, () => limiter.schedule(async () => performance.now()));
    await delay(20);
    limiter.update({ requestsPerSecond: 100, maxConcurrent: 1 });
    const starts = await Promise.all(runs);
    assert.ok(starts[4] - t0 < 500, `last start after ${starts[4] - t0} ms`);
    assert.throws(() => limiter.update({ requestsPerSecond: 0, maxConcurrent: 1 }), RangeError);
    assert.throws(() => limiter.update({ requestsPerSecond: 1, maxConcurrent: 0 }), RangeError);
  });
});
