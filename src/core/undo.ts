import type { ErrorCode } from './errors.ts';

/**
 * Why a row of a bulk change is not reversed by its undo (docs/guardrails.md, ADR 0048). Each is a code
 * of the catalogue, documented in docs/errors.md.
 */
export const irreversibleReasons = [
  'ROW_NOT_SUCCEEDED',
  'LINE_NOT_CHANGED',
  'LINE_CHANGED_SINCE',
  'BEFORE_STATE_UNKNOWN',
  'DEACTIVATION_FINAL',
  'RETIRED_FINAL',
  'IDENTIFIER_SWAP_FINAL',
  'NEW_SERVICE_FINAL',
  'BILLING_INVOICED',
  'ARCHIVAL_NOT_REVERSED',
  'REVERSE_REFUSED',
] as const satisfies readonly ErrorCode[];
export type IrreversibleReason = (typeof irreversibleReasons)[number];
