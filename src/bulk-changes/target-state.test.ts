import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Device } from '../devices/devices-repository.ts';
import { isCurrentValueColumn } from './row-fields.ts';
import { asksForNothing, targetState } from './target-state.ts';

const line = {
  status: 'active',
  carrierRatePlan: 'IoT 1MB',
  communicationPlan: 'CP_A',
  customerRatePlanId: 'plan-1',
  customerPoolId: null,
  siteId: null,
} as unknown as Device;

it('compares every value a row gives with the line, and names the first that differs', () => {
  assert.deepEqual(
    targetState('carrier_rate_plan_change', { carrierRatePlan: 'IoT 1MB', communicationPlan: 'CP_B' }, line),
    { field: 'communicationPlan', current: 'CP_A', target: 'CP_B', alreadyInTarget: false },
  );
  assert.equal(
    targetState('customer_rate_plan_change', { customerRatePlanId: 'plan-1' }, line)?.alreadyInTarget,
    true,
  );
  assert.equal(
    targetState('customer_rate_plan_change', { customerRatePlanId: 'plan-1', customerPoolId: 'pool-1' }, line)
      ?.alreadyInTarget,
    false,
  );
  // A row that gives nothing (a round-trip row left blank) keeps the line as it is.
  assert.equal(targetState('site_assignment', {}, line)?.alreadyInTarget, true);
  // Types that create or swap something have no current → target.
  assert.equal(targetState('identifier_change', { newIccid: '8901' }, line), undefined);
  assert.equal(asksForNothing('identifier_change', {}), false);
  assert.equal(asksForNothing('customer_rate_plan_change', { iccid: '8901' }), true);
});

it("knows an export's current_ columns in any spelling, and nothing else for one", () => {
  for (const header of ['current_status', 'Current Status', 'CURRENT-carrier-rate-plan'])
    assert.equal(isCurrentValueColumn(header), true, header);
  for (const header of ['current', 'status', 'target_status', 'currency'])
    assert.equal(isCurrentValueColumn(header), false, header);
});
