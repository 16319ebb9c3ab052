import type { NormalisedStatus } from '../../core/statuses.ts';

/**
 * A POND line's state is the state of all its services at once (carrier-apis §4): the API enables or
 * disables them together, so a line is either in service or suspended.
 */
export const pondLineStates = ['ENABLED', 'DISABLED'] as const;
export type PondLineState = (typeof pondLineStates)[number];

/** The normalised targets `status_update` can reach, and the `enabled` flag sent for each. */
export const pondTargets = {
  active: true,
  suspended: false,
} as const satisfies Partial<Record<NormalisedStatus, boolean>>;

const normalised: Record<PondLineState, NormalisedStatus> = {
  ENABLED: 'active',
  DISABLED: 'suspended',
};

export const normalisePondStatus = (state: string): NormalisedStatus =>
  normalised[state.toUpperCase() as PondLineState] ?? 'unknown';

export const pondStateFor = (enabled: boolean): PondLineState => (enabled ? 'ENABLED' : 'DISABLED');
