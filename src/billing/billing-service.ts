import { z } from 'zod';
import type { CallContext } from '../carriers/http/call.ts';
import { callContext } from '../carriers/per-line.ts';
import type { CarrierName } from '../core/change-types.ts';
import type { ErrorCode } from '../core/errors.ts';
import { catalogId, numberList, yesNo } from '../core/field-types.ts';
import type { RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { forEachRow } from '../core/outcomes.ts';
import type { RevioClient } from './revio/client.ts';

/** The fields of a billing service (API §3 `billing_service_creation` and `customer_assignment`). */
export const billingServiceFields = {
  billingCustomerId: catalogId,
  serviceTypeId: z.coerce.number().int().positive().optional(),
  packageId: z.coerce.number().int().positive().optional(),
  productIds: numberList.optional(),
  rates: numberList.optional(),
  prorate: yesNo.optional(),
  effectiveDate: z.iso.date().optional(),
};
export interface BillingServiceRequest {
  billingCustomerId: string;
  serviceTypeId?: number;
  packageId?: number;
  productIds?: number[];
  rates?: number[];
  prorate?: boolean;
  effectiveDate?: string;
}

type Context = StepContext<unknown>;

/** Where billing steps find a tenant's billing system: null when it has none (or its writes are off). */
export interface BillingClients {
  client(tenantId: string): Promise<RevioClient | null>;
}
type Row = WorkRow<BillingServiceRequest>;

const failed = (code: ErrorCode, message: string): RowOutcome<never> => ({
  kind: 'failed',
  error: { code, message },
});

/**
 * The line's number in billing: its MSISDN (one an earlier step of the row read back first), else the
 * identifier the carrier keys on.
 */
const numberOf = (row: WorkRow<unknown>) => {
  const learned = row.result?.msisdn;
  return (typeof learned === 'string' ? learned : null) ?? row.msisdn ?? row.iccid ?? row.eid ?? row.id;
};

/** How billing finds a line's services: by ICCID (`number2`) when it has one, else by its number. */
export const lineSearch = (row: WorkRow<unknown>): { number2: string } | { number: string } =>
  row.iccid ? { number2: row.iccid } : { number: numberOf(row) };

/**
 * The line's billing service for the customer, created only when billing has none: a retry, or a
 * crash between the create and its commit, finds the first one instead of billing the line twice
 * (the original created duplicates, original §7). Products missing from it are added the same way.
 */
async function ensureService(
  revio: RevioClient,
  row: Row,
  carrier: CarrierName,
  audit: Parameters<RevioClient['findServices']>[1],
): Promise<RowOutcome<never>> {
  const request = row.request;
  const customerId = Number(request.billingCustomerId);
  const active = await activeServices(revio, row, audit);
  const otherCustomer = active.find((service) => service.customer_id !== customerId);
  if (otherCustomer) {
    return failed(
      'BILLING_SERVICE_OTHER_CUSTOMER',
      `The line is billed to customer ${otherCustomer.customer_id} (service ${otherCustomer.service_id}); disconnect that service first`,
    );
  }
  let serviceId = active[0]?.service_id;
  const isNew = serviceId === undefined;
  if (serviceId === undefined) {
    const providerId = revio.settings.providerIds[carrier] ?? revio.settings.defaultProviderId;
    if (providerId === undefined) {
      return failed(
        'BILLING_PROVIDER_UNKNOWN',
        `No Rev.io provider id is set for ${carrier} (billing settings.providerIds)`,
      );
    }
    const today = new Date().toISOString().slice(0, 10);
    serviceId = await revio.createService(
      {
        customer_id: customerId,
        provider_id: providerId,
        ...(request.serviceTypeId ? { service_type_id: request.serviceTypeId } : {}),
        ...(request.packageId ? { package_id: request.packageId } : {}),
        number: numberOf(row),
        ...(row.iccid ? { number2: row.iccid } : {}),
        activated_date: `${today}Z`,
        ...(request.prorate && request.effectiveDate ? { effective_date: `${request.effectiveDate}Z` } : {}),
      },
      audit,
    );
  }
  if (!request.packageId && request.productIds?.length) {
    // A service created just now has no products yet: no need to ask.
    const existing = new Set(
      isNew ? [] : (await revio.serviceProducts(serviceId, audit)).map((product) => product.product_id),
    );
    for (const [index, productId] of request.productIds.entries()) {
      if (existing.has(productId)) continue;
      await revio.createServiceProduct(
        {
          service_id: serviceId,
          product_id: productId,
          customer_id: customerId,
          ...(request.rates?.[index] !== undefined ? { rate: request.rates[index] } : {}),
          quantity: 1,
          status: 'ACTIVE',
          ...(request.effectiveDate ? { effective_date: `${request.effectiveDate}Z` } : {}),
          generate_proration: request.prorate ?? false,
        },
        audit,
      );
    }
  }
  const billingServiceId = String(serviceId);
  return {
    kind: 'succeeded',
    result: { billingServiceId },
    device: { billingServiceId, billingCustomerId: request.billingCustomerId },
  };
}

/** The line's active services in billing: by its ICCID (`number2`), else by its number. */
export function activeServices(revio: RevioClient, row: WorkRow<unknown>, audit: CallContext) {
  const search = row.iccid ? { number2: row.iccid } : { number: numberOf(row as Row) };
  return revio.findServices({ ...search, status: 'ACTIVE' }, audit);
}

/** Calls to billing in flight per chunk; the billing client's own limiter paces them. */
export const BILLING_LANES = 8;

const noCustomer = failed('REQUIRED', 'A billing service needs billingCustomerId');

export const noBilling = failed('BILLING_NOT_CONFIGURED', 'No billing system is configured for this tenant');

/**
 * A step that ensures each row's billing service. Safe to run again after a crash (it looks before it
 * creates), so reconciliation simply runs it again. `nextStep` names the step that follows, if any.
 */
export function billingServiceStep<
  TRequest extends Partial<BillingServiceRequest>,
  TStep extends string = never,
>(options: {
  billing: BillingClients;
  nextStep?: TStep;
  describeFailure?: (message: string) => string;
}): Step<unknown, TRequest, TStep> {
  const run = async (rows: WorkRow<TRequest>[], context: Context) => {
    const revio = await options.billing.client(context.account.tenantId);
    return forEachRow(rows, BILLING_LANES, async (row): Promise<RowOutcome<TStep>> => {
      if (!revio) return noBilling;
      const { billingCustomerId } = row.request;
      // A status update's billing post-step runs only for rows that name a customer.
      if (!billingCustomerId) return noCustomer;
      const billed = { ...row, request: { ...row.request, billingCustomerId } };
      const outcome = await ensureService(revio, billed, context.account.carrier, {
        audit: context.auditFor(row),
        signal: context.signal,
      });
      if (outcome.kind === 'failed' && options.describeFailure) {
        return {
          ...outcome,
          error: { ...outcome.error, message: options.describeFailure(outcome.error.message) },
        };
      }
      if (outcome.kind === 'succeeded' && options.nextStep) {
        return { kind: 'next', step: options.nextStep, result: outcome.result, device: outcome.device };
      }
      return outcome;
    });
  };
  return { chunkSize: () => 100, run, reconcile: run };
}

/**
 * Moves an activated line to the row's billing customer in the inventory, with the customer rate plan
 * and pool the billing settings name for that customer (`customerDefaults`; none named: the line keeps
 * its own). Its billing service is ensured before (another customer's active service refuses the line).
 */
export function customerMoveStep(
  billing: BillingClients,
): Step<unknown, Partial<BillingServiceRequest>, never> {
  const run = async (rows: WorkRow<Partial<BillingServiceRequest>>[], context: Context) => {
    const revio = await billing.client(context.account.tenantId);
    return rows.map((row): RowOutcome<never> => {
      const { billingCustomerId } = row.request;
      if (!revio) return noBilling;
      if (!billingCustomerId) return noCustomer;
      const { customerRatePlanId, customerPoolId } =
        revio.settings.customerDefaults?.[billingCustomerId] ?? {};
      const plan = {
        ...(customerRatePlanId ? { customerRatePlanId } : {}),
        ...(customerPoolId ? { customerPoolId } : {}),
      };
      return {
        kind: 'succeeded',
        result: { movedToBillingCustomer: billingCustomerId, ...plan },
        device: { billingCustomerId, ...plan },
      };
    });
  };
  // Only the inventory changes: running it again sets the same values.
  return { chunkSize: () => 500, run };
}

/** Disconnects the line's active billing services (a deactivated line stops being billed). */
export function disconnectStep(billing: BillingClients): Step<unknown, unknown, never> {
  const run = async (rows: WorkRow<unknown>[], context: Context) => {
    const revio = await billing.client(context.account.tenantId);
    return forEachRow(rows, BILLING_LANES, async (row): Promise<RowOutcome<never>> => {
      if (!revio) return noBilling;
      const audit = callContext(row, context);
      const active = await activeServices(revio, row, audit);
      for (const service of active) await revio.disconnectService(service.service_id, audit);
      return {
        kind: 'succeeded',
        result: { billingServicesDisconnected: active.map((service) => String(service.service_id)) },
        device: { billingServiceId: null },
      };
    });
  };
  return { chunkSize: () => 100, run, reconcile: run };
}
