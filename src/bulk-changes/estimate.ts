import type { CarrierLimits, Flow } from '../core/flow.ts';

/** How long sending a bulk change's rows takes at its carrier account's limits (the preview shows it). */
export interface SendEstimate {
  /** Carrier requests the rows' first steps need. */
  requests: number;
  /** The account's limit; null when it has none. */
  requestsPerSecond: number | null;
  /** Lines per request, where the carrier takes several. */
  batchSize: number;
  /**
   * Seconds to send those requests at the limit: a floor, since answers take time too and carriers
   * that confirm later (ThingSpace, Teal, Telegence activations) add their own. Null without a limit.
   */
  seconds: number | null;
  /** Rows that wait before they are sent: their effective date, or their line's carrier quota. */
  waitingRows: number;
  /** When the last of those may go (ISO-8601); the sending ends no earlier. Null when none waits. */
  lastRowNotBefore: string | null;
}

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
