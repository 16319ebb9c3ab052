import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseThingSpaceState } from '../carriers/thingspace/statuses.ts';
import type { Device } from '../devices/devices-repository.ts';
import { type BillingService, type CarrierLine, compareLines } from './compare.ts';

const carrierLine = (iccid: string, state: string, plan = 'P1', msisdn = `m${iccid}`): CarrierLine => ({
  iccid,
  msisdn,
  carrierStatus: state,
  carrierRatePlan: plan,
  status: normaliseThingSpaceState(state),
});

const ourLine = (iccid: string, state: string | null, extra: Partial<Device> = {}): Device => ({
  id: `d${iccid}`,
  tenantId: 't',
  carrierAccountId: 'a',
  iccid,
  imei: null,
  msisdn: `m${iccid}`,
  eid: null,
  status: state ? normaliseThingSpaceState(state) : 'inventory',
  carrierStatus: state,
  carrierRatePlan: 'P1',
  communicationPlan: null,
  customerRatePlanId: null,
  customerPoolId: null,
  billingCustomerId: null,
  siteId: null,
  optimizationGroup: null,
  billingServiceId: null,
  ipAddress: null,
  username: null,
  costCenter1: null,
  costCenter2: null,
  costCenter3: null,
  lastUsageAt: null,
  archived: false,
  createdAt: 0,
  updatedAt: 0,
  ...extra,
});

const service = (id: string, number2: string | null, number: string | null = null): BillingService => ({
  serviceId: id,
  customerId: '1001',
  number,
  number2,
});

const kinds = (drifts: ReturnType<typeof compareLines>) => drifts.map((d) => `${d.kind}:${d.iccid}`);

describe('three-way comparison of an account', () => {
  it('finds nothing where the three agree, and each kind of drift where they do not', () => {
    const carrier = new Map(
      [
        carrierLine('1', 'active'),
        carrierLine('2', 'suspend'),
        carrierLine('3', 'active', 'P2'),
        carrierLine('4', 'active'),
        carrierLine('6', 'deactive'),
        carrierLine('7', 'active'),
      ].map((line) => [line.iccid, line]),
    );
    const ours = [
      ourLine('1', 'active', { billingCustomerId: '1001' }),
      ourLine('2', 'active'),
      ourLine('3', 'active'),
      ourLine('5', 'active'),
      ourLine('6', 'deactive'),
      ourLine('7', 'active', { billingCustomerId: '1001' }),
      // Stock: never on the carrier's account, so not missing there.
      ourLine('8', null),
    ];
    const billing = [service('s1', '1'), service('s6', null, 'm6')];
    const drifts = compareLines(carrier, ours, billing);
    assert.deepEqual(kinds(drifts), [
      'status_differs:2',
      'plan_differs:3',
      'missing_from_inventory:4',
      'missing_at_carrier:5',
      'billed_but_deactivated:6',
      'active_not_billed:7',
    ]);
    const status = drifts[0];
    assert.deepEqual(
      [status.field, status.carrierValue, status.ourValue, status.carrierStatus, status.deviceId],
      ['status', 'suspended', 'active', 'suspend', 'd2'],
    );
    const billed = drifts[4];
    assert.deepEqual(
      [billed.billingValue, billed.billingCustomerId],
      ['s6', '1001'],
      'a service found by its number (the MSISDN)',
    );
  });

  it('leaves billing out when there is no billing connection', () => {
    const carrier = new Map([carrierLine('1', 'deactive')].map((line) => [line.iccid, line]));
    assert.deepEqual(
      compareLines(carrier, [ourLine('1', 'deactive', { billingCustomerId: '1001' })], null),
      [],
    );
  });
});
