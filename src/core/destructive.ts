/**
 * What counts as a destructive change: one that takes lines out of service or changes what they are.
 * The portal asks for a typed confirmation of one; a tenant's approval policy and blast-radius cap
 * (docs/guardrails.md) hold them. One notion, here, for all three.
 */

/** Target statuses that take a line out of service, most severe first. */
const destructiveTargets: Array<[status: string, verb: string]> = [
  ['retired', 'retire'],
  ['deactivated', 'deactivate'],
  ['suspended', 'suspend'],
];

const destructiveTypes: Record<string, string> = {
  archival: 'archive',
  identifier_change: 'change identifiers of',
};

/** What a destructive change does, as a verb ("deactivate"); undefined when it is not destructive. */
export function destructiveVerb(changeType: string, targetStatuses: ReadonlySet<string>): string | undefined {
  if (changeType === 'status_update') {
    return destructiveTargets.find(([status]) => targetStatuses.has(status))?.[1];
  }
  return destructiveTypes[changeType];
}
