import { z } from 'zod';
import { catalogId, yesNo } from '../core/field-types.ts';
import type { DevicePatch, Flow, RowOutcome, Step, WorkRow } from '../core/flow.ts';
import {
  type BillingClients,
  type BillingServiceRequest,
  billingServiceFields,
  billingServiceStep,
} from './billing-service.ts';

/**
 * The change types that act on our inventory and billing rather than on a carrier (original §5.3–§5.5,
 * §5.7). They are the same on every carrier account.
 */

/** A step that only updates the inventory: every row succeeds with its patch, in one commit. */
export function inventoryStep<TRequest>(
  patch: (request: TRequest) => DevicePatch,
): Step<unknown, TRequest, never> {
  return {
    chunkSize: () => 1000,
    run: async (rows: WorkRow<TRequest>[]) =>
      rows.map((row): RowOutcome<never> => {
        const device = patch(row.request);
        return { kind: 'succeeded', result: { ...device }, device };
      }),
  };
}

export const customerPlanFields = {
  customerRatePlanId: catalogId.optional(),
  customerPoolId: catalogId.optional(),
};
const customerPlanPatch = (request: {
  customerRatePlanId?: string;
  customerPoolId?: string;
}): DevicePatch => ({
  ...(request.customerRatePlanId !== undefined ? { customerRatePlanId: request.customerRatePlanId } : {}),
  ...(request.customerPoolId !== undefined ? { customerPoolId: request.customerPoolId } : {}),
});

const startOfDay = (date: string) => Date.parse(`${date}T00:00:00Z`);

const customerRatePlanRequest = z
  .object({
    ...customerPlanFields,
    dataAllocationMb: z.coerce.number().int().nonnegative().optional(),
    effectiveDate: z.iso.date().optional(),
  })
  .refine((request) => request.customerRatePlanId || request.customerPoolId, {
    message: 'Give customerRatePlanId or customerPoolId',
  });
type CustomerRatePlanRequest = z.infer<typeof customerRatePlanRequest>;

/**
 * Now, or on its effective date: rows wait in the queue until then and all run at that time (the
 * original queued only the first 100 of a scheduled change, original §7).
 */
export const customerRatePlanChange: Flow<unknown, CustomerRatePlanRequest, 'assign_plan'> = {
  requestSchema: customerRatePlanRequest,
  writesToCarrier: false,
  firstStep: 'assign_plan',
  startAt: (request) => (request.effectiveDate ? startOfDay(request.effectiveDate) : undefined),
  steps: { assign_plan: inventoryStep(customerPlanPatch) },
};

const assignmentRequest = z.object({
  ...billingServiceFields,
  ...customerPlanFields,
  createBillingService: yesNo.optional(),
});
type AssignmentRequest = z.infer<typeof assignmentRequest>;

const assignPatch = (request: AssignmentRequest): DevicePatch => ({
  billingCustomerId: request.billingCustomerId,
  ...customerPlanPatch(request),
});

/**
 * Assigns lines to a billing customer: the billing service and its products first when asked, then
 * the customer and its plan or pool in the inventory. A line billed to another customer is refused.
 */
export const customerAssignment = (
  billing: BillingClients,
): Flow<unknown, AssignmentRequest, 'billing_service' | 'assign_customer'> => ({
  requestSchema: assignmentRequest,
  writesToCarrier: false,
  checkRow(request, device) {
    if (
      device.billingServiceId &&
      device.billingCustomerId &&
      device.billingCustomerId !== request.billingCustomerId
    ) {
      return {
        field: 'billingCustomerId',
        code: 'BILLING_SERVICE_OTHER_CUSTOMER',
        message: `The line has an active billing service of customer ${device.billingCustomerId}; disconnect it before assigning the line to ${request.billingCustomerId}`,
      };
    }
    if (request.createBillingService && !request.serviceTypeId && !request.packageId) {
      return {
        field: 'serviceTypeId',
        code: 'REQUIRED',
        message: 'A billing service needs serviceTypeId (or packageId)',
      };
    }
    return undefined;
  },
  firstStep: (request) => (request.createBillingService ? 'billing_service' : 'assign_customer'),
  steps: {
    billing_service: billingServiceStep({ billing, nextStep: 'assign_customer' }),
    assign_customer: inventoryStep(assignPatch),
  },
});

const billingServiceRequest = z.object({
  ...billingServiceFields,
  serviceTypeId: billingServiceFields.serviceTypeId.unwrap(),
});

export const billingServiceCreation = (
  billing: BillingClients,
): Flow<unknown, BillingServiceRequest, 'billing_service'> => ({
  requestSchema: billingServiceRequest,
  writesToCarrier: false,
  firstStep: 'billing_service',
  steps: { billing_service: billingServiceStep({ billing }) },
});

const siteAssignmentRequest = z.object({ siteId: catalogId });
type SiteAssignmentRequest = z.infer<typeof siteAssignmentRequest>;

/**
 * Puts lines at one of the tenant's sites (the original's AMOP-only assignment carried the site, §3.6).
 * Intake resolves the site by id or name; the change is the inventory's alone.
 */
export const siteAssignment: Flow<unknown, SiteAssignmentRequest, 'assign_site'> = {
  requestSchema: siteAssignmentRequest,
  writesToCarrier: false,
  firstStep: 'assign_site',
  steps: { assign_site: inventoryStep((request) => ({ siteId: request.siteId })) },
};
