import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rowRetryDelay } from './retry-delay.ts';

describe('rowRetryDelay', () => {
  it('doubles with each attempt, from 1 s, and never passes 5 minutes', () => {
    const longest = (attempts: number) => rowRetryDelay(attempts, () => 1);
    assert.deepEqual([1, 2, 3, 4].map(longest), [1_000, 2_000, 4_000, 8_000]);
    assert.equal(longest(30), 300_000);
  });

  it('is at least half and at most all of its ceiling, whatever the draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempts, draw) => {
          const delay = rowRetryDelay(attempts, () => draw);
          const ceiling = rowRetryDelay(attempts, () => 1);
          assert.ok(
            delay >= ceiling / 2 - 1 && delay <= ceiling,
            `${delay} within [${ceiling / 2}, ${ceiling}]`,
          );
          assert.ok(Number.isInteger(delay));
        },
      ),
    );
  });

  it('never shrinks as attempts grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), (attempts) => {
        assert.ok(rowRetryDelay(attempts + 1, () => 1) >= rowRetryDelay(attempts, () => 1));
      }),
    );
  });
});
