import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Counts, emptyCounts } from '../core/statuses.ts';
import { finalStatus } from './final-status.ts';

const counts = (finished: Partial<Pick<Counts, 'succeeded' | 'failed' | 'cancelled'>>): Counts => {
  const result = { ...emptyCounts(), ...finished };
  return { ...result, total: result.succeeded + result.failed + result.cancelled };
};

describe("finalStatus, from a finished bulk change's rows alone", () => {
  it('names each case', () => {
    assert.equal(finalStatus(counts({ succeeded: 3 }), false), 'completed');
    assert.equal(finalStatus(counts({ failed: 3 }), false), 'failed');
    assert.equal(finalStatus(counts({ succeeded: 2, failed: 1 }), false), 'completed_with_errors');
    assert.equal(finalStatus(counts({ succeeded: 2, cancelled: 1 }), true), 'cancelled');
    // A cancel that came too late to stop any row changes nothing.
    assert.equal(finalStatus(counts({ succeeded: 3 }), true), 'completed');
  });

  it('is completed exactly when no row failed or was cancelled, and failed only when none succeeded', () => {
    const finished = fc.record({
      succeeded: fc.nat(1_000),
      failed: fc.nat(1_000),
      cancelled: fc.nat(1_000),
    });
    fc.assert(
      fc.property(finished, fc.boolean(), (rows, cancelRequested) => {
        const status = finalStatus(counts(rows), cancelRequested);
        assert.equal(status === 'completed', rows.failed === 0 && rows.cancelled === 0);
        if (status === 'failed') assert.ok(rows.succeeded === 0 && rows.failed > 0);
        if (status === 'cancelled') assert.ok(cancelRequested && rows.cancelled > 0);
        if (rows.failed > 0 && rows.succeeded > 0 && !(cancelRequested && rows.cancelled > 0))
          assert.equal(status, 'completed_with_errors');
      }),
    );
  });
});
