import type { NormalisedStatus } from '../../core/statuses.ts';

/**
 * Telegence subscriber status letters (carrier-apis §3.2): A active, S suspended, C cancelled. `NEW` is
 * ours: a SIM in the inventory that an `activate_new_service` has not activated yet.
 */
export const telegenceStatuses = ['A', 'S', 'C', 'NEW'] as const;
export type TelegenceStatus = (typeof telegenceStatuses)[number];

const normalised: Record<TelegenceStatus, NormalisedStatus> = {
  A: 'active',
  S: 'suspended',
  C: 'deactivated',
  NEW: 'inventory',
};

export const normaliseTelegenceStatus = (status: string): NormalisedStatus =>
  normalised[status as TelegenceStatus] ?? 'unknown';

/** The targets `status_update` reaches on Telegence: a PATCH of `subscriberStatus` with a reason code. */
export const telegenceTargets = { active: 'A', suspended: 'S', deactivated: 'C' } as const;
export type TelegenceTarget = keyof typeof telegenceTargets;

/** What the line must be in for each target: restore from suspended, suspend when active, cancel either. */
const allowedFrom: Record<TelegenceTarget, readonly string[]> = {
  active: ['S'],
  suspended: ['A'],
  deactivated: ['A', 'S'],
};

export const canMoveTelegenceLine = (from: string, target: TelegenceTarget): boolean =>
  allowedFrom[target].includes(from);
