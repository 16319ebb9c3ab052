import type { NormalisedStatus } from '../../core/statuses.ts';

/** ThingSpace's states as they appear on the wire (carrier-apis §1.6), lower case. */
const normalised: Record<string, NormalisedStatus> = {
  'pre-active': 'inventory',
  'pending activation': 'pending_activation',
  active: 'active',
  suspend: 'suspended',
  deactive: 'deactivated',
};

export const normaliseThingSpaceState = (state: string): NormalisedStatus =>
  normalised[state.toLowerCase()] ?? 'unknown';

export const thingSpaceTargets = [
  'inventory',
  'pending_activation',
  'active',
  'suspended',
  'deactivated',
] as const;
export type ThingSpaceTarget = (typeof thingSpaceTargets)[number];

/** The first step that moves a line from its state to a target; `already` changes nothing. */
export type FirstStep = 'add' | 'activate' | 'restore' | 'suspend' | 'deactivate' | 'confirm' | 'already';

/**
 * The carrier's transitions (carrier-apis §1.6) as plans. `null` is a line the account does not have
 * yet, which is added (pre-active) first.
 */
const plans: Record<ThingSpaceTarget, Record<string, FirstStep>> = {
  inventory: { none: 'add', 'pre-active': 'already' },
  pending_activation: {
    none: 'add',
    'pre-active': 'activate',
    deactive: 'activate',
    'pending activation': 'already',
  },
  active: {
    none: 'add',
    'pre-active': 'activate',
    deactive: 'activate',
    'pending activation': 'confirm',
    suspend: 'restore',
    active: 'already',
  },
  suspended: { active: 'suspend', suspend: 'already' },
  deactivated: {
    active: 'deactivate',
    suspend: 'deactivate',
    'pending activation': 'deactivate',
    deactive: 'already',
  },
};

export const firstStepFor = (target: ThingSpaceTarget, state: string | null): FirstStep | undefined =>
  plans[target][state?.toLowerCase() ?? 'none'];

/** The state each asynchronous action ends in. */
export const finalStateOf = {
  activate: 'active',
  restore: 'active',
  suspend: 'suspend',
  deactivate: 'deactive',
} as const;
