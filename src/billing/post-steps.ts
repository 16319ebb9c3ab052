import type { RowOutcome, Step, WorkRow } from '../core/flow.ts';

/**
 * A flow's steps whose rows, once a step has finished them, go on to the post-step `next` names for
 * them (if any) instead of ending there: what a carrier did is kept (its result and the inventory's
 * patch), and the row's step shows the post-step while it runs.
 */
export function thenPostStep<TClient, TRequest, TStep extends string, TNext extends string>(
  steps: Record<TStep, Step<TClient, TRequest, TStep>>,
  next: (request: TRequest) => TNext | undefined,
): Record<TStep, Step<TClient, TRequest, TStep | TNext>> {
  const reroute = (rows: WorkRow<TRequest>[], outcomes: RowOutcome<TStep>[]) =>
    outcomes.map((outcome, index): RowOutcome<TStep | TNext> => {
      const step = next(rows[index].request);
      return outcome.kind === 'succeeded' && step
        ? { kind: 'next', step, result: outcome.result, device: outcome.device }
        : outcome;
    });
  const rerouted = (step: Step<TClient, TRequest, TStep>): Step<TClient, TRequest, TStep | TNext> => {
    const reconcile = step.reconcile;
    return {
      chunkSize: step.chunkSize,
      run: async (rows, context) => reroute(rows, await step.run(rows, context)),
      ...(reconcile
        ? { reconcile: async (rows, context) => reroute(rows, await reconcile(rows, context)) }
        : {}),
    };
  };
  return Object.fromEntries(
    Object.entries<Step<TClient, TRequest, TStep>>(steps).map(([name, step]) => [name, rerouted(step)]),
  ) as Record<TStep, Step<TClient, TRequest, TStep | TNext>>;
}
