import type { ChangeType } from '../core/change-types.ts';
import type { LineQuota } from './carrier.ts';

/**
 * When a carrier's quota periods begin. The carriers count per UTC calendar day or month; a test or a
 * demo cannot wait for midnight, so `LINE_QUOTA_PERIOD_MS` swaps in fixed windows (docs/guardrails.md).
 */
export interface QuotaCalendar {
  periodStart(period: LineQuota['period'], now: number): number;
  /** When the period after the current one begins: the quota is whole again. */
  nextPeriodStart(period: LineQuota['period'], now: number): number;
}

export const utcQuotaCalendar: QuotaCalendar = {
  periodStart(period, now) {
    const at = new Date(now);
    return period === 'day'
      ? Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())
      : Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  },
  nextPeriodStart(period, now) {
    const at = new Date(now);
    return period === 'day'
      ? Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1)
      : Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  },
};

/** Every period (day or month alike) a window of `periodMs` from the epoch. */
const fixedWindowCalendar = (periodMs: number): QuotaCalendar => ({
  periodStart: (_period, now) => now - (now % periodMs),
  nextPeriodStart: (_period, now) => now - (now % periodMs) + periodMs,
});

export const quotaCalendar = (periodMs: number | undefined): QuotaCalendar =>
  periodMs ? fixedWindowCalendar(periodMs) : utcQuotaCalendar;

/** The quota a carrier's refusal code says the line has spent, for rows of the change type. */
export const quotaRefusedBy = (
  quotas: readonly LineQuota[] | undefined,
  changeType: ChangeType,
  carrierCode: string | undefined,
): LineQuota | undefined =>
  carrierCode === undefined
    ? undefined
    : quotas?.find(
        (quota) =>
          quota.changeTypes.includes(changeType) &&
          quota.refusalCode !== undefined &&
          carrierCode.endsWith(quota.refusalCode),
      );
