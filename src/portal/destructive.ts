/** Above this many lines, a destructive change must be confirmed by typing what it does. */
export const TYPED_CONFIRMATION_ABOVE = 10;

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

/** What the operator types to confirm: "deactivate 2,000 lines". */
export const confirmationPhrase = (verb: string, lines: number): string =>
  `${verb} ${lines.toLocaleString('en-US')} ${lines === 1 ? 'line' : 'lines'}`;

export function typedConfirmation(
  changeType: string,
  targetStatuses: ReadonlySet<string>,
  lines: number,
): string | undefined {
  const verb = destructiveVerb(changeType, targetStatuses);
  return verb && lines > TYPED_CONFIRMATION_ABOVE ? confirmationPhrase(verb, lines) : undefined;
}
