import { z } from 'zod';
import { normalisedStatuses } from '../core/statuses.ts';

/** An empty select or text box means "any". */
const optionalText = z
  .string()
  .trim()
  .max(100)
  .optional()
  .transform((value) => value || undefined);

/**
 * The devices page's filters. The same fields, prefixed `lines.`, carry a filter to the new bulk change
 * form ("start a bulk change with these lines"), where they pick its lines.
 */
export const deviceFilterShape = {
  carrierAccountId: optionalText,
  status: z
    .enum(normalisedStatuses)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  carrierRatePlan: optionalText,
  billingCustomerId: optionalText,
};
export const deviceFilterSchema = z.object(deviceFilterShape);
export type DevicesFilter = z.infer<typeof deviceFilterSchema>;

export const LINES_PREFIX = 'lines.';

/** The filter as `lines.*` query fields, for a link to the new bulk change form. */
export const linesQuery = (filter: DevicesFilter): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(filter).map(([name, value]) => [LINES_PREFIX + name, value]));

/** The filter a new bulk change form was sent, if any: its `lines.*` query fields. */
export function linesFilterOf(query: Record<string, unknown>): DevicesFilter | undefined {
  const given = Object.entries(query).filter(([name]) => name.startsWith(LINES_PREFIX));
  if (given.length === 0) return undefined;
  const parsed = deviceFilterSchema.safeParse(
    Object.fromEntries(given.map(([name, value]) => [name.slice(LINES_PREFIX.length), value])),
  );
  return parsed.success ? parsed.data : undefined;
}
