/**
 * The vocabulary of a three-way reconciliation (ADR 0049): what the carrier, our inventory and billing
 * (Rev.io) may disagree about on a line, and the life of one reconciliation run.
 */
export const driftKinds = [
  /** The carrier's status is not the inventory's. */
  'status_differs',
  /** The carrier's rate plan is not the inventory's. */
  'plan_differs',
  /** The carrier has a line the inventory does not. */
  'missing_from_inventory',
  /** The inventory has a line (not archived) the carrier does not. */
  'missing_at_carrier',
  /** Billing has an active service for a line the carrier has deactivated (or does not have). */
  'billed_but_deactivated',
  /** The carrier has the line active, billing has no active service for it. */
  'active_not_billed',
] as const;
export type DriftKind = (typeof driftKinds)[number];

export const reconciliationStatuses = ['queued', 'running', 'completed', 'failed'] as const;
export type ReconciliationStatus = (typeof reconciliationStatuses)[number];

/**
 * Who started a run: a person (API, portal, CLI), the account's schedule, or a carrier callback for a
 * change no bulk change made (a change made outside bulkchange).
 */
export const reconciliationTriggers = ['manual', 'schedule', 'callback'] as const;
export type ReconciliationTrigger = (typeof reconciliationTriggers)[number];
