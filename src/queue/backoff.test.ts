import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF, decorrelatedDelay } from './backoff.ts';

const unit = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const options = fc.record({
  baseMs: fc.integer({ min: 1, max: 10_000 }),
  capMs: fc.integer({ min: 1, max: 600_000 }),
  jitter: fc.constantFrom('full' as const, 'equal' as const, 'none' as const),
});

describe('backoff', () => {
  it('defaults to base 1 s, cap 5 min, full jitter', () => {
    assert.deepEqual({ ...DEFAULT_BACKOFF }, { baseMs: 1_000, capMs: 300_000, jitter: 'full' });
    assert.deepEqual(
      [1, 2, 3, 4, 9, 10, 50].map((n) => backoffCeiling(n)),
      [1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000],
    );
    assert.equal(
      backoffDelay(3, {}, () => 0.5),
      2_000,
    );
    assert.equal(
      backoffDelay(3, { jitter: 'none' }, () => 0.5),
      4_000,
    );
    assert.equal(
      backoffDelay(3, { jitter: 'equal' }, () => 0),
      2_000,
    );
  });

  it('is always within [0, cap], for any attempt and any random value', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: -5, max: 10_000 }), unit, (opts, attempt, r) => {
        const delay = backoffDelay(attempt, opts, () => r);
        return Number.isInteger(delay) && delay >= 0 && delay <= opts.capMs;
      }),
    );
  });

  it('never shrinks as attempts grow, for the same random draw', () => {
    fc.assert(
      fc.property(
        options,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        unit,
        (o, n, k, r) => {
          return backoffDelay(n, o, () => r) <= backoffDelay(n + k, o, () => r);
        },
      ),
    );
  });

  it('grows on average until the cap (full jitter averages half the ceiling)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const mean = (attempt: number) => {
      let sum = 0;
      for (let i = 0; i < 4_000; i++) sum += backoffDelay(attempt, {}, random);
      return sum / 4_000;
    };
    const means = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(mean);
    for (let i = 1; i < means.length; i++) assert.ok(means[i] > means[i - 1] * 1.6, `mean grows: ${means}`);
    for (const [i, m] of means.entries()) {
      const expected = backoffCeiling(i + 1) / 2;
      assert.ok(Math.abs(m - expected) < expected * 0.1, `attempt ${i + 1}: mean ${m} ≈ ${expected}`);
    }
    assert.ok(Math.abs(mean(30) - 150_000) < 15_000, 'at the cap the mean is cap/2');
  });

  it('decorrelated jitter stays within [min(base, cap), cap] and within 3× the previous delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        unit,
        (baseMs, capMs, previous, r) => {
          const delay = decorrelatedDelay(previous, { baseMs, capMs }, () => r);
          return (
            delay >= Math.min(baseMs, capMs) && delay <= capMs && delay <= Math.max(previous, baseMs) * 3
          );
        },
      ),
    );
  });

  it('tolerates a broken random source', () => {
    assert.equal(
      backoffDelay(2, {}, () => Number.NaN),
      0,
    );
    assert.ok(backoffDelay(2, {}, () => 7) <= 2_000);
  });
});
