import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountHealth, HEALTH_WINDOW_SECONDS } from './account-health.ts';

describe('AccountHealth', () => {
  const second = 1_800_000_000_000;

  it('counts calls per second over a rolling minute, faults apart from carrier refusals', () => {
    const health = new AccountHealth();
    for (let index = 0; index < 5; index++)
      health.record('a', { at: second + index * 100, outcome: 'success' });
    health.record('a', { at: second + 1000, outcome: 'transient' });
    health.record('a', { at: second + 1000, outcome: 'rejected' });
    health.record('b', { at: second, outcome: 'auth' });

    const snapshot = health.snapshot('a', second + 2500);
    assert.equal(snapshot.requestsPerSecondSeries.length, HEALTH_WINDOW_SECONDS);
    assert.deepEqual(snapshot.requestsPerSecondSeries.slice(-3), [5, 2, 0]);
    assert.deepEqual(snapshot.faultsPerSecondSeries.slice(-3), [0, 1, 0]);
    assert.equal(snapshot.calls, 7);
    assert.equal(snapshot.errorRate, 1 / 7);
    assert.equal(snapshot.requestsPerSecond, 0.7, 'the last 10 whole seconds, not the one filling up');
    assert.equal(snapshot.circuit, 'unknown');
  });

  it('forgets seconds older than the window, even when their slot is reused', () => {
    const health = new AccountHealth();
    health.record('a', { at: second, outcome: 'transient' });
    const later = second + HEALTH_WINDOW_SECONDS * 1000;
    assert.equal(health.snapshot('a', later).calls, 0);
    health.record('a', { at: later, outcome: 'success' });
    const snapshot = health.snapshot('a', later);
    assert.equal(snapshot.calls, 1);
    assert.equal(snapshot.errorRate, 0);
    assert.equal(health.snapshot('nobody', later).errorRate, null);
  });
});
