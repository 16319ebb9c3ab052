import type { CarrierAdapter } from '../carriers/carrier.ts';
import { withFields, yesNo } from '../core/field-types.ts';
import type { Flow, Step } from '../core/flow.ts';
import { archival, unarchive } from './archival-flows.ts';
import { costCenterChange, withBillingFields } from './billing-fields.ts';
import {
  type BillingClients,
  type BillingServiceRequest,
  billingServiceFields,
  billingServiceStep,
  customerMoveStep,
  disconnectStep,
} from './billing-service.ts';
import {
  billingServiceCreation,
  customerAssignment,
  customerPlanFields,
  customerRatePlanChange,
  siteAssignment,
} from './customer-flows.ts';
import { thenPostStep } from './post-steps.ts';

type StatusRequest = { targetStatus: string; moveBillingCustomer?: boolean } & Partial<BillingServiceRequest>;
type BillingPostStep = 'billing_service' | 'billing_disconnect' | 'move_customer';

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

/** The customer move follows the billing service of an activation, when the row asks for it. */
const afterBillingService = (request: StatusRequest) =>
  request.moveBillingCustomer ? ('move_customer' as const) : undefined;

/**
 * `status_update` with the billing post-steps (original §5.1, §5.7): a line activated for a billing
 * customer gets its billing service (never twice) and, with `moveBillingCustomer`, is moved to the
 * customer with its default customer rate plan and pool; a deactivated one has its services
 * disconnected.
 */
export function withBillingPostStep<TClient, TStep extends string>(
  flow: Flow<TClient, StatusRequest, TStep>,
  billing: BillingClients,
): Flow<TClient, StatusRequest, TStep | BillingPostStep> {
  // The carrier's own effectiveDate means the status change's; billing then uses today.
  const { billingCustomerId, serviceTypeId, packageId, productIds, rates } = billingServiceFields;
  const carrierSteps = thenPostStep(flow.steps, postStep);
  const billingService: Step<TClient, StatusRequest, BillingPostStep> = thenPostStep<
    unknown,
    StatusRequest,
    'billing_service',
    'move_customer'
  >(
    { billing_service: billingServiceStep<StatusRequest>({ billing, describeFailure: lineChangedBut }) },
    afterBillingService,
  ).billing_service;
  return {
    ...flow,
    requestSchema: withFields(flow.requestSchema, {
      billingCustomerId: billingCustomerId.optional(),
      serviceTypeId,
      packageId,
      productIds,
      rates,
      moveBillingCustomer: yesNo.optional(),
    }),
    checkRow: (request, device, settings) =>
      request.moveBillingCustomer && !request.billingCustomerId
        ? {
            field: 'billingCustomerId',
            code: 'REQUIRED',
            message: 'moveBillingCustomer moves the line to billingCustomerId: give it',
          }
        : flow.checkRow?.(request, device, settings),
    steps: {
      ...carrierSteps,
      billing_service: billingService,
      billing_disconnect: disconnectStep(billing),
      move_customer: customerMoveStep(billing),
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
      archival: archival(billing),
      unarchive,
      site_assignment: siteAssignment,
    },
  };
}
