import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cheapestFittingPlan } from './status-post-steps.ts';

const MB = 1_048_576;
const plans = [
  { ratePlan: 'IoT Basic 1MB', dataMb: 1 },
  { ratePlan: 'IoT 10MB', dataMb: 10 },
  { ratePlan: 'IoT 100MB', dataMb: 100 },
];

it('picks the first plan whose allowance covers the usage, else the last, as the original did', () => {
  assert.equal(cheapestFittingPlan(plans, 0), 'IoT Basic 1MB');
  assert.equal(cheapestFittingPlan(plans, MB), 'IoT Basic 1MB', 'an allowance used exactly still fits');
  assert.equal(cheapestFittingPlan(plans, MB + 1), 'IoT 10MB');
  assert.equal(cheapestFittingPlan(plans, 101 * MB), 'IoT 100MB', 'nothing fits: the last');
  assert.equal(
    cheapestFittingPlan(
      [...plans.slice(0, 1), { ratePlan: 'IoT Unlimited', dataMb: null }, ...plans.slice(1)],
      5 * MB,
    ),
    'IoT Unlimited',
    'an unlimited plan fits any usage',
  );
  assert.equal(cheapestFittingPlan([], 0), undefined);
});
