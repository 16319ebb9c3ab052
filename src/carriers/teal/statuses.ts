import type { NormalisedStatus } from '../../core/statuses.ts';

/** Teal eSIM states (carrier-apis §5): AMOP knows these three and refuses to change a line in any other. */
export const tealStates = ['online', 'waiting', 'stopped'] as const;
export type TealState = (typeof tealStates)[number];

/** The normalised targets `status_update` can reach: each is its own endpoint, and the state it leads to. */
export const tealTargets = {
  active: { endpoint: 'enable', state: 'online' },
  suspended: { endpoint: 'disable', state: 'stopped' },
} as const satisfies Partial<Record<NormalisedStatus, { endpoint: string; state: TealState }>>;
export type TealTarget = keyof typeof tealTargets;

const normalised: Record<TealState, NormalisedStatus> = {
  online: 'active',
  // An eSIM that has not been enabled yet: ready, waiting for its activation.
  waiting: 'activation_ready',
  stopped: 'suspended',
};

export const normaliseTealState = (state: string): NormalisedStatus =>
  normalised[state.toLowerCase() as TealState] ?? 'unknown';

export const isTealState = (state: string): state is TealState =>
  (tealStates as readonly string[]).includes(state.toLowerCase());
