import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Device } from '../devices/devices-repository.ts';
import { isCurrentValueColumn } from './row-fields.ts';
import { exportedValueChange, exportedValueField, isEdited, targetState } from './target-state.ts';

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
});

// As a flow's validation reads them: trimmed and lower case.
const normalise = (_field: string, value: unknown) => String(value).trim().toLowerCase();

it('takes a round-trip row as edited only when a field differs from its own current_ cell', () => {
  const edited = (fields: Record<string, unknown>, exported?: Record<string, string>) =>
    isEdited('carrier_rate_plan_change', fields, exported, normalise);
  assert.equal(edited({ carrierRatePlan: 'IoT 1MB' }, { carrierRatePlan: 'IoT 1MB' }), false);
  assert.equal(edited({ carrierRatePlan: 'iot 1mb ' }, { carrierRatePlan: 'IoT 1MB' }), false);
  assert.equal(edited({}, undefined), false);
  assert.equal(
    edited(
      { carrierRatePlan: 'IoT 1MB', communicationPlan: 'CP_B' },
      { carrierRatePlan: 'IoT 1MB', communicationPlan: 'CP_A' },
    ),
    true,
  );
  // A blank current_ cell is no value: a field given beside it is edited.
  assert.equal(edited({ communicationPlan: 'CP_A' }, { carrierRatePlan: 'IoT 1MB' }), true);
  // A type with no value in the inventory has nothing to compare: every row is taken as written.
  assert.equal(isEdited('identifier_change', { newIccid: '8901' }, undefined, normalise), true);
});

it("says when an edited row's line moved since the export, and not when it is as exported or as asked", () => {
  const moved = (request: Record<string, unknown>, exported?: Record<string, string>) =>
    exportedValueChange('status_update', request, line, exported, normalise);
  assert.deepEqual(moved({ targetStatus: 'deactivated' }, { targetStatus: 'Suspended' }), {
    field: 'targetStatus',
    was: 'suspended',
    now: 'active',
  });
  assert.equal(moved({ targetStatus: 'deactivated' }, { targetStatus: 'active' }), undefined);
  assert.equal(moved({ targetStatus: 'active' }, { targetStatus: 'suspended' }), undefined);
  assert.deepEqual(moved({ targetStatus: 'deactivated' }, undefined)?.was, null);
});

it("maps a current_ column to the field it sits beside, for the type's fields only", () => {
  assert.equal(exportedValueField('Current Status', 'status_update'), 'targetStatus');
  assert.equal(
    exportedValueField('current_communication_plan', 'carrier_rate_plan_change'),
    'communicationPlan',
  );
  assert.equal(exportedValueField('current_status', 'carrier_rate_plan_change'), undefined);
});

it("knows an export's current_ columns in any spelling, and nothing else for one", () => {
  for (const header of ['current_status', 'Current Status', 'CURRENT-carrier-rate-plan'])
    assert.equal(isCurrentValueColumn(header), true, header);
  for (const header of ['current', 'status', 'target_status', 'currency'])
    assert.equal(isCurrentValueColumn(header), false, header);
});
