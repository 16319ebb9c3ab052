import { z } from 'zod';
import { callContext } from '../carriers/per-line.ts';
import {
  type CarrierUsernameRequest,
  type CostCenterName,
  costCenterFields,
  givenCostCenters,
  type UsernameRequest,
  usernameField,
} from '../carriers/username-request.ts';
import { withFields } from '../core/field-types.ts';
import type { Flow, RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { forEachRow } from '../core/outcomes.ts';
import { BILLING_LANES, type BillingClients, lineSearch } from './billing-service.ts';
import { thenPostStep } from './post-steps.ts';
import type { RevioClient, RevioServiceDetail } from './revio/client.ts';

type BillingFieldsStep = 'billing_fields';

/** What became of a row's cost centres in billing (the row's `result.costCentersInBilling`). */
export type CostCentersInBilling = 'updated' | 'unchanged' | 'no_billing_service' | 'billing_not_connected';

/** Labels compared as the original did: without spaces, in any case ("Cost Center 1" is CostCenter1). */
const labelKey = (label: string) => label.replace(/\s+/g, '').toLowerCase();

/** The Rev.io labels each cost centre goes to, the first found; a bare "CostCenter" is the first one's. */
const labelsOf: Record<CostCenterName, string[]> = {
  costCenter1: ['costcenter1', 'costcenter'],
  costCenter2: ['costcenter2'],
  costCenter3: ['costcenter3'],
};

type Writes = { writes: Array<{ index: number; value: string }> } | { missing: CostCenterName };

/** The custom fields to write on a service: only those whose value differs (none: nothing to send). */
function plannedWrites(
  service: RevioServiceDetail,
  costCenters: Partial<Record<CostCenterName, string>>,
): Writes {
  const writes: Array<{ index: number; value: string }> = [];
  for (const [name, value] of Object.entries(costCenters) as Array<[CostCenterName, string]>) {
    const index = labelsOf[name]
      .map((label) => service.fields.findIndex((field) => labelKey(field.label) === label))
      .find((found) => found >= 0);
    if (index === undefined) return { missing: name };
    if ((service.fields[index].value ?? '') !== value) writes.push({ index, value });
  }
  return { writes };
}

/**
 * Writes a row's cost centres to the custom fields of the line's active Rev.io services, each read
 * first, so a row run again sends nothing (original §5.9, there without the read). A line billing does
 * not know keeps them in the inventory only, as the original did.
 */
async function writeCostCenters(
  revio: RevioClient | null,
  row: WorkRow<UsernameRequest>,
  context: StepContext<unknown>,
): Promise<RowOutcome<never>> {
  const costCenters = givenCostCenters(row.request);
  const done = (outcome: CostCentersInBilling, serviceIds: number[] = []): RowOutcome<never> => ({
    kind: 'succeeded',
    result: {
      ...costCenters,
      costCentersInBilling: outcome,
      ...(serviceIds.length ? { billingServiceIds: serviceIds.map(String) } : {}),
    },
    device: costCenters,
  });
  if (!revio) return done('billing_not_connected');
  const call = callContext(row, context);
  const services = await revio.findServices({ ...lineSearch(row), status: 'ACTIVE' }, call);
  if (services.length === 0) return done('no_billing_service');
  let wrote = false;
  for (const { service_id: serviceId } of services) {
    const planned = plannedWrites(await revio.getService(serviceId, call), costCenters);
    if ('missing' in planned) {
      return {
        kind: 'failed',
        error: {
          code: 'BILLING_FIELD_MISSING',
          message: `Rev.io service ${serviceId} has no custom field labelled ${planned.missing === 'costCenter1' ? 'CostCenter1 (or CostCenter)' : planned.missing.replace('costC', 'C')}; add it in Rev.io, or leave ${planned.missing} out`,
        },
      };
    }
    if (planned.writes.length === 0) continue;
    await revio.setServiceFields(serviceId, planned.writes, call);
    wrote = true;
  }
  return done(
    wrote ? 'updated' : 'unchanged',
    services.map((service) => service.service_id),
  );
}

/** Reads before it writes, so reconciliation after a crash simply runs it again. */
function billingFieldsStep(billing: BillingClients): Step<unknown, UsernameRequest, never> {
  const run = async (rows: WorkRow<UsernameRequest>[], context: StepContext<unknown>) => {
    const revio = await billing.client(context.account.tenantId);
    return forEachRow(rows, BILLING_LANES, (row) => writeCostCenters(revio, row, context));
  };
  return { chunkSize: () => 100, run, reconcile: run };
}

const hasCostCenters = (request: UsernameRequest): BillingFieldsStep | undefined =>
  Object.keys(givenCostCenters(request)).length > 0 ? 'billing_fields' : undefined;

const oneGiven = {
  message: 'Give username or costCenter1..3',
  check: (request: UsernameRequest) => Object.values(request).some((value) => value !== undefined),
};

/** On a carrier that keeps no username: the cost centres, in billing alone. */
export const costCenterChange = (
  billing: BillingClients,
): Flow<unknown, UsernameRequest, BillingFieldsStep> => ({
  requestSchema: z.object(costCenterFields).refine(oneGiven.check, oneGiven.message),
  writesToCarrier: false,
  firstStep: 'billing_fields',
  steps: { billing_fields: billingFieldsStep(billing) },
});

/**
 * `username_cost_center_change` where the carrier keeps a username (its flow sets it), then the cost
 * centres in billing. A row without a username goes straight to billing.
 */
export function withBillingFields<TClient, TStep extends string>(
  carrier: Flow<TClient, CarrierUsernameRequest, TStep>,
  billing: BillingClients,
): Flow<TClient, UsernameRequest, TStep | BillingFieldsStep> {
  // The carrier's steps see only rows that give a username (firstStep), so their narrower type holds.
  const carrierSteps = thenPostStep(
    carrier.steps as unknown as Record<TStep, Step<TClient, UsernameRequest, TStep>>,
    hasCostCenters,
  );
  const { firstStep } = carrier;
  return {
    ...carrier,
    requestSchema: withFields(carrier.requestSchema, {
      username: usernameField.optional(),
      ...costCenterFields,
    }).refine(oneGiven.check, oneGiven.message) as z.ZodType<UsernameRequest>,
    checkRow: carrier.checkRow as Flow<TClient, UsernameRequest, TStep>['checkRow'],
    firstStep: (request, device) => {
      if (request.username === undefined) return 'billing_fields';
      return typeof firstStep === 'function' ? firstStep({ username: request.username }, device) : firstStep;
    },
    steps: { ...carrierSteps, billing_fields: billingFieldsStep(billing) },
  };
}
