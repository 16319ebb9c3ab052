import { destructiveVerb } from '../core/destructive.ts';

/** Above this many lines, a destructive change must be confirmed by typing what it does. */
export const TYPED_CONFIRMATION_ABOVE = 10;

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
