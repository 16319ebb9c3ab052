import { z } from 'zod';
import type { CarrierAdapter, Flow, RowOutcome, Step, WorkRow } from '../carriers/carrier.ts';
import { billingServiceFields, billingServiceStep, disconnectStep } from './billing-service.ts';
import {
  archival,
  billingServiceCreation,
  customerAssignment,
  customerRatePlanChange,
} from './customer-flows.ts';

type StatusRequest = { targetStatus: string; billingCustomerId?: string };

/** What billing does after a line's status change, when the row names a billing customer. */
const postStep = (request: StatusRequest): string | undefined => {
  if (!request.billingCustomerId) return undefined;
  if (request.targetStatus === 'active') return 'billing_service';
  if (request.targetStatus === 'deactivated' || request.targetStatus === 'retired')
    return 'billing_disconnect';
  return undefined;
};

const lineChangedBut = (message: string) =>
  `The line's status changed at the carrier, but billing failed: ${message}`;

/** Sends rows the carrier step finished on to their billing post-step instead. */
function routeToBilling<TClient>(step: Step<TClient, StatusRequest>): Step<TClient, StatusRequest> {
  const reroute = (rows: WorkRow<StatusRequest>[], outcomes: RowOutcome[]) =>
    outcomes.map((outcome, index): RowOutcome => {
      const next = postStep(rows[index].request);
      return outcome.kind === 'succeeded' && next
        ? { kind: 'next', step: next, result: outcome.result, device: outcome.device }
        : outcome;
    });
  const reconcile = step.reconcile;
  return {
    ...step,
    run: async (rows, context) => reroute(rows, await step.run(rows, context)),
    ...(reconcile
      ? { reconcile: async (rows, context) => reroute(rows, await reconcile(rows, context)) }
      : {}),
  };
}

/**
 * `status_update` with the billing post-step (original §5.7): a line activated for a billing customer
 * gets its billing service (never twice), a deactivated one has its services disconnected.
 */
export function withBillingPostStep<TClient>(
  flow: Flow<TClient, StatusRequest>,
): Flow<TClient, StatusRequest> {
  if (!(flow.requestSchema instanceof z.ZodObject)) return flow;
  // The carrier's own effectiveDate means the status change's; billing then uses today.
  const { billingCustomerId, serviceTypeId, packageId, productIds, rates } = billingServiceFields;
  return {
    ...flow,
    requestSchema: flow.requestSchema.extend({
      billingCustomerId: billingCustomerId.optional(),
      serviceTypeId,
      packageId,
      productIds,
      rates,
    }) as unknown as z.ZodType<StatusRequest>,
    steps: {
      ...Object.fromEntries(Object.entries(flow.steps).map(([name, step]) => [name, routeToBilling(step)])),
      billing_service: billingServiceStep({ describeFailure: lineChangedBut }) as Step<
        TClient,
        StatusRequest
      >,
      billing_disconnect: disconnectStep() as Step<TClient, StatusRequest>,
    },
  };
}

/** Every carrier account also takes the change types that act on the inventory and billing alone. */
export function withSharedFlows<TClient>(adapter: CarrierAdapter<TClient>): CarrierAdapter<TClient> {
  const statusUpdate = adapter.flows.status_update;
  return {
    ...adapter,
    flows: {
      ...adapter.flows,
      ...(statusUpdate ? { status_update: withBillingPostStep(statusUpdate) } : {}),
      customer_rate_plan_change: customerRatePlanChange,
      customer_assignment: customerAssignment,
      billing_service_creation: billingServiceCreation,
      archival,
    },
  };
}
