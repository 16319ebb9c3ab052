import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quotaCalendar, quotaRefusedBy, utcQuotaCalendar } from './line-quotas.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('carrier quota calendar', () => {
  it('counts UTC calendar days and months, turning over months and years', () => {
    const now = at('2026-12-31T23:59:59.999Z');
    assert.equal(iso(utcQuotaCalendar.periodStart('day', now)), '2026-12-31T00:00:00.000Z');
    assert.equal(iso(utcQuotaCalendar.nextPeriodStart('day', now)), '2027-01-01T00:00:00.000Z');
    assert.equal(iso(utcQuotaCalendar.periodStart('month', now)), '2026-12-01T00:00:00.000Z');
    assert.equal(iso(utcQuotaCalendar.nextPeriodStart('month', now)), '2027-01-01T00:00:00.000Z');
    assert.equal(
      iso(utcQuotaCalendar.nextPeriodStart('day', at('2028-02-28T08:00:00Z'))),
      '2028-02-29T00:00:00.000Z',
    );
  });

  it('uses fixed windows from the epoch when LINE_QUOTA_PERIOD_MS is set, and the UTC calendar when not', () => {
    const windows = quotaCalendar(60_000);
    const now = at('2026-12-03T18:30:42.500Z');
    assert.equal(iso(windows.periodStart('day', now)), '2026-12-03T18:30:00.000Z');
    assert.equal(iso(windows.nextPeriodStart('month', now)), '2026-12-03T18:31:00.000Z');
    assert.equal(quotaCalendar(undefined), utcQuotaCalendar);
  });

  it('names the quota a refusal code spends, for the change types it counts', () => {
    const quotas = [
      {
        changeTypes: ['status_update'],
        max: 5,
        period: 'day',
        rule: 'r',
        refusalCode: 'ProvisioningLimitExceeded',
      },
    ] as const;
    const code = 'UnifiedWebService.REQUEST_FAILED.Device.ProvisioningLimitExceeded';
    assert.equal(quotaRefusedBy(quotas, 'status_update', code), quotas[0]);
    assert.equal(quotaRefusedBy(quotas, 'carrier_rate_plan_change', code), undefined);
    assert.equal(
      quotaRefusedBy(quotas, 'status_update', 'UnifiedWebService.REQUEST_FAILED.Other'),
      undefined,
    );
    assert.equal(quotaRefusedBy(quotas, 'status_update', undefined), undefined);
  });
});
