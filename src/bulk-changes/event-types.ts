import type { TerminalBulkStatus } from '../core/statuses.ts';

/**
 * The tenant events (docs/webhooks.md): a bulk change's life (its pauses, resumes and approvals
 * included, docs/guardrails.md), and optionally each failed row.
 */
export const eventTypes = [
  'bulk_change.created',
  'bulk_change.started',
  'bulk_change.paused',
  'bulk_change.resumed',
  'bulk_change.awaiting_approval',
  'bulk_change.approved',
  'bulk_change.rejected',
  'bulk_change.completed',
  'bulk_change.completed_with_errors',
  'bulk_change.failed',
  'bulk_change.cancelled',
  'bulk_change.row_failed',
] as const;
export type EventType = (typeof eventTypes)[number];

/** The event a bulk change's final status sends. */
export const finishedEvent = (status: TerminalBulkStatus): EventType => `bulk_change.${status}`;

/** An event as webhooks deliver it and the live feed sends it. */
export interface TenantEvent {
  id: string;
  type: EventType | 'webhook.test';
  createdAt: string;
  data: Record<string, unknown>;
}
