import type { Counts, TerminalBulkStatus } from '../core/statuses.ts';

/** A finished bulk change's status, derived from its rows alone. */
export function finalStatus(counts: Counts, cancelRequested: boolean): TerminalBulkStatus {
  if (cancelRequested && counts.cancelled > 0) return 'cancelled';
  if (counts.failed === 0 && counts.cancelled === 0) return 'completed';
  if (counts.succeeded === 0 && counts.failed > 0) return 'failed';
  return 'completed_with_errors';
}
