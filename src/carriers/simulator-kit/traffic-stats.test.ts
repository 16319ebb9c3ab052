import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TrafficStats } from './traffic-stats.ts';

it('measures the busiest sliding 1-second window of accepted requests', () => {
  let now = 0;
  const stats = new TrafficStats(() => now);
  for (const at of [0, 999, 1000, 1998, 1999]) {
    now = at;
    stats.accepted(1);
  }
  // A request exactly 1000 ms older has left the window: the busiest ones hold 999, 1000, 1998 or 1000, 1998, 1999.
  assert.equal(stats.snapshot().maxObservedRequestsPerSecond, 3);
  stats.reset();
  assert.equal(stats.snapshot().maxObservedRequestsPerSecond, 0);
});
