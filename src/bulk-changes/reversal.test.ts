import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Device } from '../devices/devices-repository.ts';
import { reverseOf } from './reversal.ts';

const line = (fields: Partial<Device> = {}): Device => ({
  id: 'line-1',
  tenantId: 't',
  carrierAccountId: 'a',
  iccid: '89014810000000000016',
  imei: null,
  msisdn: null,
  eid: null,
  status: 'active',
  carrierStatus: 'ACTIVATED',
  carrierRatePlan: 'IoT 100MB',
  communicationPlan: 'CP_Basic_ON',
  customerRatePlanId: null,
  customerPoolId: null,
  billingCustomerId: null,
  siteId: null,
  optimizationGroup: null,
  billingServiceId: null,
  lastUsageAt: null,
  ipAddress: null,
  username: null,
  costCenter1: null,
  costCenter2: null,
  costCenter3: null,
  archived: false,
  createdAt: 0,
  updatedAt: 0,
  ...fields,
});

const changed = (field: string, before: string | null, after: string | null) => ({ field, before, after });

describe('reverseOf', () => {
  it('sets back the plans a plan change changed, and keeps the required plan when only the other changed', () => {
    assert.deepEqual(
      reverseOf(
        'carrier_rate_plan_change',
        'jasper',
        { status: 'succeeded', changes: [changed('carrierRatePlan', 'IoT Basic 1MB', 'IoT 100MB')] },
        line(),
      ),
      { kind: 'reverse', fields: { carrierRatePlan: 'IoT Basic 1MB' } },
    );
    assert.deepEqual(
      reverseOf(
        'carrier_rate_plan_change',
        'jasper',
        { status: 'succeeded', changes: [changed('communicationPlan', 'CP_Data_Only', 'CP_Basic_ON')] },
        line(),
      ),
      { kind: 'reverse', fields: { carrierRatePlan: 'IoT 100MB', communicationPlan: 'CP_Data_Only' } },
    );
  });

  it('reverses a field changed twice by one row to its first value, and ignores a field that came back', () => {
    const changes = [
      changed('status', 'suspended', 'pending_activation'),
      changed('status', 'pending_activation', 'active'),
      changed('msisdn', null, '5550001'),
    ];
    assert.deepEqual(reverseOf('status_update', 'thingspace', { status: 'succeeded', changes }, line()), {
      kind: 'reverse',
      fields: { targetStatus: 'suspended' },
    });
    const roundTrip = [changed('status', 'active', 'suspended'), changed('status', 'suspended', 'active')];
    assert.equal(
      (
        reverseOf('status_update', 'jasper', { status: 'succeeded', changes: roundTrip }, line()) as {
          reason: string;
        }
      ).reason,
      'LINE_NOT_CHANGED',
    );
  });

  it('gives each irreversible row its reason', () => {
    const reason = (...args: Parameters<typeof reverseOf>) => {
      const reversal = reverseOf(...args);
      return reversal.kind === 'irreversible' ? reversal.reason : 'reversible';
    };
    const deactivation = {
      status: 'succeeded' as const,
      changes: [changed('status', 'active', 'deactivated')],
    };
    const deactivated = line({ status: 'deactivated' });
    assert.equal(reason('status_update', 'thingspace', deactivation, deactivated), 'DEACTIVATION_FINAL');
    assert.equal(reason('status_update', 'telegence', deactivation, deactivated), 'DEACTIVATION_FINAL');
    assert.equal(reason('status_update', 'jasper', deactivation, deactivated), 'reversible');
    assert.equal(
      reason(
        'status_update',
        'jasper',
        { status: 'succeeded', changes: [changed('status', 'active', 'retired')] },
        line({ status: 'retired' }),
      ),
      'RETIRED_FINAL',
    );
    assert.equal(reason('status_update', 'jasper', deactivation, line()), 'LINE_CHANGED_SINCE');
    assert.equal(reason('status_update', 'jasper', deactivation, undefined), 'LINE_CHANGED_SINCE');
    assert.equal(
      reason('status_update', 'jasper', { ...deactivation, status: 'failed' }, deactivated),
      'ROW_NOT_SUCCEEDED',
    );
    assert.equal(
      reason(
        'status_update',
        'jasper',
        { status: 'succeeded', changes: [changed('status', 'unknown', 'active')] },
        line(),
      ),
      'BEFORE_STATE_UNKNOWN',
    );
    assert.equal(
      reason(
        'customer_assignment',
        'pond',
        {
          status: 'succeeded',
          changes: [changed('billingCustomerId', 'C1', 'C2'), changed('billingServiceId', null, 'S9')],
        },
        line({ billingCustomerId: 'C2', billingServiceId: 'S9' }),
      ),
      'BILLING_INVOICED',
    );
    assert.equal(
      reason(
        'customer_rate_plan_change',
        'teal',
        { status: 'succeeded', changes: [changed('customerRatePlanId', null, 'P2')] },
        line({ customerRatePlanId: 'P2' }),
      ),
      'BEFORE_STATE_UNKNOWN',
    );
    const swap = { status: 'succeeded' as const, changes: [changed('iccid', 'a', 'b')] };
    assert.equal(reason('identifier_change', 'thingspace', swap, line()), 'IDENTIFIER_SWAP_FINAL');
    assert.equal(reason('activate_new_service', 'telegence', swap, line()), 'NEW_SERVICE_FINAL');
    assert.equal(reason('billing_service_creation', 'jasper', swap, line()), 'BILLING_INVOICED');
    assert.equal(reason('archival', 'jasper', swap, line()), 'ARCHIVAL_NOT_REVERSED');
    assert.equal(
      reason('status_update', 'jasper', { status: 'succeeded', changes: [] }, line()),
      'LINE_NOT_CHANGED',
    );
  });
});
