import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureRate, nextWave, waveEnd, wavePlanSchema } from './waves.ts';

const plan = wavePlanSchema.parse({ waves: [{ lines: 10 }, { percent: 10 }, { percent: 100 }] });

describe('canary waves', () => {
  it('reaches further each wave, cumulatively, in row order', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((index) => waveEnd(plan, index, 1000)),
      [10, 100, 1000, 1000],
    );
    assert.equal(plan.haltOnFailureRate, 0.2);
  });

  it('skips a wave that reaches no further, and ends with the rest', () => {
    // 50 rows: 10 % is 5, behind the first 10 lines.
    assert.deepEqual(nextWave(plan, 0, 10, 50), { index: 2, end: 50 });
    const partial = wavePlanSchema.parse({ waves: [{ percent: 1 }, { percent: 10 }] });
    assert.deepEqual(nextWave(partial, -1, 0, 1000), { index: 0, end: 10 });
    assert.deepEqual(nextWave(partial, 1, 100, 1000), { index: 2, end: 1000 });
  });

  it('counts the failure rate over finished rows only', () => {
    assert.equal(failureRate({ succeeded: 70, failed: 30 }), 0.3);
    assert.equal(failureRate({ succeeded: 0, failed: 0 }), 0);
  });

  it('refuses an empty plan, a wave of both kinds, and a threshold outside 0..1', () => {
    for (const bad of [
      { waves: [] },
      { waves: [{ lines: 10, percent: 5 }] },
      { waves: [{ percent: 0 }] },
      { waves: [{ lines: 1.5 }] },
      { waves: [{ lines: 1 }], haltOnFailureRate: 1.5 },
      { haltOnFailureRate: 0.1 },
    ])
      assert.equal(wavePlanSchema.safeParse(bad).success, false, JSON.stringify(bad));
  });
});
