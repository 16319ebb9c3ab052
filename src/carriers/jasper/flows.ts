import { z } from 'zod';
import type { Flow, RowError, RowOutcome, StepContext, WorkRow } from '../../core/flow.ts';
import { callContext, perLineStep } from '../per-line.ts';
import type { JasperClient, JasperDevice } from './client.ts';
import { jasperRejectionCodes } from './errors.ts';
import { canMoveJasperLine, jasperTargets, normaliseJasperStatus } from './statuses.ts';

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

/** One PUT per line; after a crash or an unclear answer, the line is read and compared. */
function jasperStep<TRequest>(spec: {
  send: (row: WorkRow<TRequest>, context: StepContext<JasperClient>) => Promise<RowOutcome<never>>;
  applied: (row: WorkRow<TRequest>, device: JasperDevice) => boolean;
}) {
  return perLineStep<JasperClient, TRequest, JasperDevice>({
    send: spec.send,
    read: (row, context) => context.client.getDevice(row.iccid!, callContext(row, context)),
    applied: (row, device) =>
      spec.applied(row, device) ? { kind: 'succeeded', device: devicePatch(device) } : undefined,
    mapRejection,
  });
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

export const jasperStatusUpdate: Flow<JasperClient, StatusRequest, 'update_status'> = {
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
    update_status: jasperStep<StatusRequest>({
      send: async (row, context) => {
        const status = jasperTargets[row.request.targetStatus];
        await context.client.editDevice(row.iccid!, { status }, callContext(row, context));
        return {
          kind: 'succeeded',
          device: { status: normaliseJasperStatus(status), carrierStatus: status },
        };
      },
      applied: (row, device) => device.status === jasperTargets[row.request.targetStatus],
    }),
  },
};

const ratePlanRequest = z.object({
  carrierRatePlan: z.string().trim().min(1),
  communicationPlan: z.string().trim().min(1).optional(),
  effectiveDate,
});
type RatePlanRequest = z.infer<typeof ratePlanRequest>;

export const jasperRatePlanChange: Flow<JasperClient, RatePlanRequest, 'update_rate_plan'> = {
  requestSchema: ratePlanRequest,
  writesToCarrier: true,
  firstStep: 'update_rate_plan',
  steps: {
    update_rate_plan: jasperStep<RatePlanRequest>({
      send: async (row, context) => {
        const { carrierRatePlan, communicationPlan, effectiveDate } = row.request;
        await context.client.editDevice(
          row.iccid!,
          { ratePlan: carrierRatePlan, communicationPlan, effectiveDate },
          callContext(row, context),
        );
        const plans = { carrierRatePlan, ...(communicationPlan ? { communicationPlan } : {}) };
        return { kind: 'succeeded', result: plans, device: plans };
      },
      applied: (row, device) =>
        device.ratePlan === row.request.carrierRatePlan &&
        (row.request.communicationPlan === undefined ||
          device.communicationPlan === row.request.communicationPlan),
    }),
  },
};
