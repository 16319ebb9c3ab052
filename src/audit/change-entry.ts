import type { Actor } from './actor.ts';
import type { NewAuditEntry } from './audit-repository.ts';

/** The fields that differ between two states, each side holding only those (secrets redacted before). */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  return {
    before: Object.fromEntries(keys.map((key) => [key, before[key] ?? null])),
    after: Object.fromEntries(keys.map((key) => [key, after[key] ?? null])),
  };
}

/**
 * An entry for something a person (or the platform) did to the tenant's configuration or work: who,
 * when, what (`carrier_account.update`, `api_key.create`, `bulk_change.cancel`, …), on what, and the
 * state before and after. Secrets never enter it: the caller passes them as "replaced".
 */
export function auditEntryForChange(change: {
  tenantId: string;
  actor: Actor;
  action: string;
  subject?: { bulkChangeId?: string; carrierAccountId?: string };
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  detail?: Record<string, unknown>;
  outcome?: string;
  at?: number;
}): NewAuditEntry {
  return {
    tenant_id: change.tenantId,
    bulk_change_id: change.subject?.bulkChangeId ?? null,
    device_change_id: null,
    carrier_account_id: change.subject?.carrierAccountId ?? null,
    at: change.at ?? Date.now(),
    actor: change.actor.id,
    action: change.action,
    system: 'bulkchange',
    request: null,
    response: JSON.stringify({
      ...(change.actor.detail ? { actor: change.actor.detail } : {}),
      ...(change.before !== undefined ? { before: change.before } : {}),
      ...(change.after !== undefined ? { after: change.after } : {}),
      ...change.detail,
    }),
    http_status: null,
    duration_ms: null,
    outcome: change.outcome ?? 'success',
  };
}
