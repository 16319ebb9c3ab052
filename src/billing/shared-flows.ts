import type { CarrierAdapter } from '../carriers/carrier.ts';
import { withFields } from '../core/field-types.ts';
import type { Flow } from '../core/flow.ts';
import { costCenterChange, withBillingFields } from './billing-fields.ts';
import {
  type BillingClients,
  type BillingServiceRequest,
  billingServiceFields,
  billingServiceStep,
  disconnectStep,
} from './billing-service.ts';
import {
  archival,
  billingServiceCreation,
  customerAssignment,
  customerPlanFields,
  customerRatePlanChange,
} from './customer-flows.ts';
import { thenPostStep } from './post-steps.ts';

type StatusRequest = { targetStatus: string } & Partial<BillingServiceRequest>;
type BillingPostStep = 'billing_service' | 'billing_disconnect';

/** What billing does after a line's status change, when the row names a billing customer. */
const postStep = (request: StatusRequest): BillingPostStep | undefined => {
  if (!request.billingCustomerId) return undefined;
  if (request.targetStatus === 'active') return 'billing_service';
  if (request.targetStatus === 'deactivated' || request.targetStatus === 'retired')
    return 'billing_disconnect';
  return undefined;
};

const lineChangedBut = (message: string) =>
  `The line's status changed at the carrier, but billing failed: ${message}`;

/**
 * `status_update` with the billing post-step (original §5.7): a line activated for a billing customer
 * gets its billing service (never twice), a deactivated one has its services disconnected.
 */
export function withBillingPostStep<TClient, TStep extends string>(
  flow: Flow<TClient, StatusRequest, TStep>,
  billing: BillingClients,
): Flow<TClient, StatusRequest, TStep | BillingPostStep> {
  // The carrier's own effectiveDate means the status change's; billing then uses today.
  const { billingCustomerId, serviceTypeId, packageId, productIds, rates } = billingServiceFields;
  const carrierSteps = thenPostStep(flow.steps, postStep);
  return {
    ...flow,
    requestSchema: withFields(flow.requestSchema, {
      billingCustomerId: billingCustomerId.optional(),
      serviceTypeId,
      packageId,
      productIds,
      rates,
    }),
    steps: {
      ...carrierSteps,
      billing_service: billingServiceStep({ billing, describeFailure: lineChangedBut }),
      billing_disconnect: disconnectStep(billing),
    },
  };
}

type CustomerPlan = { customerRatePlanId?: string; customerPoolId?: string };

/**
 * An identifier change that also sets the line's customer rate plan or pool (the original's optional
 * step, §3.7–§3.8): the row names them, and once the swaps are done a linked
 * `customer_rate_plan_change` runs for the lines swapped, as a new service's customer assignment does.
 * The original ran it inside the swap, for every line of the bulk change at each row (B7).
 */
export function withCustomerPlanStep<TClient, TRequest, TStep extends string>(
  flow: Flow<TClient, TRequest, TStep>,
): Flow<TClient, TRequest & CustomerPlan, TStep> {
  return {
    ...flow,
    requestSchema: withFields(flow.requestSchema, customerPlanFields),
    followUp: {
      changeType: 'customer_rate_plan_change',
      fields: ({ customerRatePlanId, customerPoolId }) =>
        customerRatePlanId || customerPoolId
          ? {
              ...(customerRatePlanId ? { customerRatePlanId } : {}),
              ...(customerPoolId ? { customerPoolId } : {}),
            }
          : undefined,
    },
  };
}

/**
 * Every carrier account also takes the change types that act on the inventory and billing alone, a
 * status update can bill or unbill the line it changed, an identifier change can set its customer
 * rate plan, and a username / cost centre change writes the cost centres to billing on every carrier.
 */
export function withSharedFlows<TClient>(
  adapter: CarrierAdapter<TClient>,
  billing: BillingClients,
): CarrierAdapter<TClient> {
  const {
    status_update: statusUpdate,
    identifier_change: identifierChange,
    username_cost_center_change: usernameChange,
  } = adapter.flows;
  return {
    ...adapter,
    flows: {
      ...adapter.flows,
      ...(statusUpdate ? { status_update: withBillingPostStep(statusUpdate, billing) } : {}),
      ...(identifierChange ? { identifier_change: withCustomerPlanStep(identifierChange) } : {}),
      customer_rate_plan_change: customerRatePlanChange,
      customer_assignment: customerAssignment(billing),
      billing_service_creation: billingServiceCreation(billing),
      username_cost_center_change: usernameChange
        ? withBillingFields(usernameChange, billing)
        : costCenterChange(billing),
      archival,
    },
  };
}
