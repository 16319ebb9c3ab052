import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';

/**
 * One change of a line, as Get Device Audit History lists it (Cisco: field, priorValue, value,
 * effectiveDate, status, userName). `Error`: Control Center took the edit, then refused that field.
 */
export interface JasperAuditEntry {
  field: string;
  priorValue: string | null;
  value: string | null;
  /** ISO-8601; the API writes `yyyy-MM-ddTHH:mm:ss.SSSZ`, which it is. */
  effectiveDate: string;
  status: 'Executed' | 'Error';
  userName: string;
}

/** The names the audit trail gives the fields bulk changes edit; a custom field goes by its label. */
export const auditFieldNames: Record<string, string> = {
  status: 'SIM Status',
  ratePlan: 'Rate Plan',
  communicationPlan: 'Communication Plan',
};

const maxDaysOfHistory = 365;
const maxPageSize = 50;

const auditQuerySchema = z.object({
  daysOfHistory: z.coerce.number().int().min(1).max(maxDaysOfHistory).default(30),
  pageSize: z.coerce.number().int().min(1).max(maxPageSize).default(maxPageSize),
  pageNumber: z.coerce.number().int().min(1).default(1),
});

/** A page of the line's entries within `daysOfHistory` days, newest first; or the query's refusal. */
export function auditTrailPage(
  iccid: string,
  trail: readonly JasperAuditEntry[],
  query: URLSearchParams,
  refuse: (message: string) => SimResponse,
): SimResponse {
  const parsed = auditQuerySchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) return refuse(parsed.error.issues[0].message);
  const { daysOfHistory, pageSize, pageNumber } = parsed.data;
  const since = Date.now() - daysOfHistory * 86_400_000;
  const recent = trail.filter((entry) => Date.parse(entry.effectiveDate) >= since);
  const start = (pageNumber - 1) * pageSize;
  return {
    status: 200,
    body: {
      iccid,
      timestamp: new Date().toISOString(),
      pageNumber,
      lastPage: start + pageSize >= recent.length,
      deviceAuditTrails: recent.slice(start, start + pageSize),
    },
  };
}
