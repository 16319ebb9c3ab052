import { z } from 'zod';
import { forEachRow } from '../../engine/outcomes.ts';
import type { Flow, RowError, RowOutcome, StepContext, WorkRow } from '../carrier.ts';
import { lanes, perLineChunk } from '../per-line.ts';
import type { JasperClient, JasperDevice } from './client.ts';
import { canMoveJasperLine, jasperTargets, normaliseJasperStatus } from './statuses.ts';

/** Control Center codes (and the simulator's, docs/carriers/jasper.md) that mean more than "rejected". */
const jasperRejectionCodes: Record<string, string> = {
  '10000003': 'DEVICE_NOT_FOUND',
  '20000017': 'INVALID_TRANSITION',
  '20000018': 'UNKNOWN_RATE_PLAN',
  '20000019': 'COMMUNICATION_PLAN_NOT_ALLOWED',
};

const mapRejection = (error: RowError): RowError => ({
  ...error,
  code: (error.carrierCode && jasperRejectionCodes[error.carrierCode]) || error.code,
});

const effectiveDate = z.iso
  .date()
  .or(z.iso.datetime({ offset: true }))
  .refine((value) => Date.parse(value) <= Date.now() + 180 * 86_400_000, {
    message: 'Control Center takes effective dates at most 180 days ahead',
  })
  .optional();

async function reconcileEach<TRequest>(
  rows: WorkRow<TRequest>[],
  context: StepContext<JasperClient>,
  applied: (row: WorkRow<TRequest>, device: JasperDevice) => boolean,
): Promise<RowOutcome[]> {
  return forEachRow(
    rows,
    lanes(context),
    async (row) => {
      const device = await context.client.getDevice(row.iccid!, context.auditFor(row), context.signal);
      return applied(row, device) ? { kind: 'succeeded', device: devicePatch(device) } : { kind: 'resend' };
    },
    mapRejection,
  );
}

const devicePatch = (device: JasperDevice) => ({
  status: normaliseJasperStatus(device.status),
  carrierStatus: device.status,
  carrierRatePlan: device.ratePlan ?? null,
  communicationPlan: device.communicationPlan ?? null,
  ...(device.msisdn ? { msisdn: device.msisdn } : {}),
});

const statusRequest = z.object({
  targetStatus: z.enum(Object.keys(jasperTargets) as [keyof typeof jasperTargets]),
});
type StatusRequest = z.infer<typeof statusRequest>;

export const jasperStatusUpdate: Flow<JasperClient, StatusRequest> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(request, device) {
    const target = jasperTargets[request.targetStatus];
    if (device.carrierStatus && !canMoveJasperLine(device.carrierStatus, target)) {
      return {
        field: 'targetStatus',
        code: 'INVALID_TRANSITION',
        message: `A line in ${device.carrierStatus} cannot move to ${target} on Control Center`,
      };
    }
    return undefined;
  },
  firstStep: 'update_status',
  steps: {
    update_status: {
      chunkSize: perLineChunk,
      run: (rows, context) =>
        forEachRow(
          rows,
          lanes(context),
          async (row) => {
            const status = jasperTargets[row.request.targetStatus];
            await context.client.editDevice(row.iccid!, { status }, context.auditFor(row), context.signal);
            return {
              kind: 'succeeded',
              device: { status: normaliseJasperStatus(status), carrierStatus: status },
            };
          },
          mapRejection,
        ),
      reconcile: (rows, context) =>
        reconcileEach(
          rows,
          context,
          (row, device) => device.status === jasperTargets[row.request.targetStatus],
        ),
    },
  },
};

const ratePlanRequest = z.object({
  carrierRatePlan: z.string().trim().min(1),
  communicationPlan: z.string().trim().min(1).optional(),
  effectiveDate,
});
type RatePlanRequest = z.infer<typeof ratePlanRequest>;

export const jasperRatePlanChange: Flow<JasperClient, RatePlanRequest> = {
  requestSchema: ratePlanRequest,
  writesToCarrier: true,
  firstStep: 'update_rate_plan',
  steps: {
    update_rate_plan: {
      chunkSize: perLineChunk,
      run: (rows, context) =>
        forEachRow(
          rows,
          lanes(context),
          async (row) => {
            const { carrierRatePlan, communicationPlan, effectiveDate } = row.request;
            await context.client.editDevice(
              row.iccid!,
              { ratePlan: carrierRatePlan, communicationPlan, effectiveDate },
              context.auditFor(row),
              context.signal,
            );
            return {
              kind: 'succeeded',
              result: { carrierRatePlan, ...(communicationPlan ? { communicationPlan } : {}) },
              device: {
                carrierRatePlan,
                ...(communicationPlan ? { communicationPlan } : {}),
              },
            };
          },
          mapRejection,
        ),
      reconcile: (rows, context) =>
        reconcileEach(rows, context, (row, device) => {
          const { carrierRatePlan, communicationPlan } = row.request;
          return (
            device.ratePlan === carrierRatePlan &&
            (communicationPlan === undefined || device.communicationPlan === communicationPlan)
          );
        }),
    },
  },
};
