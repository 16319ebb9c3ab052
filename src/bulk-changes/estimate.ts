import { z } from 'zod';
import type { CarrierLimits, Flow } from '../core/flow.ts';
import { isoTime } from '../shared/answers.ts';

/** How long sending a bulk change's rows takes at its carrier account's limits (the preview shows it). */
export const sendEstimateSchema = z.object({
  requests: z.number().int().describe("Carrier requests the rows' first steps need"),
  requestsPerSecond: z.number().nullable().describe("The account's limit; null when it has none"),
  batchSize: z.number().int().describe('Lines per request, where the carrier takes several'),
  seconds: z
    .number()
    .nullable()
    .describe(
      'Seconds to send those requests at the limit: a floor (answers take time too, and some carriers confirm later); null without a limit',
    ),
  waitingRows: z
    .number()
    .int()
    .describe("Rows that wait before they are sent: their effective date, or their line's carrier quota"),
  lastRowNotBefore: isoTime.nullable().describe('When the last of those may go; null when none waits'),
});
export type SendEstimate = z.infer<typeof sendEstimateSchema>;

/**
 * Counts the requests of each first step: a step whose chunk is the account's batch size sends one
 * request per batch (ThingSpace, Teal, Telegence activations); any other, one per line.
 */
export function estimateSending(
  flow: Flow<unknown, unknown, string>,
  limits: CarrierLimits,
  rowsByFirstStep: ReadonlyMap<string, number>,
  waiting: { rows: number; lastStart: number | null },
): SendEstimate {
  let requests = 0;
  if (flow.writesToCarrier) {
    for (const [name, rows] of rowsByFirstStep) {
      const step = flow.steps[name];
      const batched = limits.batchSize > 1 && step?.chunkSize(limits) === limits.batchSize;
      requests += batched ? Math.ceil(rows / limits.batchSize) : rows;
    }
  }
  const perSecond = limits.requestsPerSecond;
  return {
    requests,
    requestsPerSecond: perSecond,
    batchSize: limits.batchSize,
    seconds: perSecond === null || perSecond <= 0 ? null : Math.ceil(requests / perSecond),
    waitingRows: waiting.rows,
    lastRowNotBefore: waiting.lastStart === null ? null : new Date(waiting.lastStart).toISOString(),
  };
}
