import { z } from 'zod';
import { yesNo } from '../../core/field-types.ts';
import type { DevicePatch, Flow, RowOutcome, StepContext, WorkRow } from '../../core/flow.ts';
import { callContext, perLineStep } from '../per-line.ts';
import { type JasperClient, type JasperDevice, jasperSettingsSchema } from './client.ts';
import { mapJasperRejection } from './errors.ts';
import { cheapestPlanStep, readMsisdnStep } from './status-post-steps.ts';
import { canMoveJasperLine, jasperTargets, normaliseJasperStatus } from './statuses.ts';

const effectiveDate = z.iso
  .date()
  .or(z.iso.datetime({ offset: true }))
  .refine((value) => Date.parse(value) <= Date.now() + 180 * 86_400_000, {
    message: 'Control Center takes effective dates at most 180 days ahead',
  })
  .optional();

/** One PUT per line; after a crash or an unclear answer, the line is read and compared. */
function jasperStep<TRequest, TStep extends string = never>(spec: {
  send: (row: WorkRow<TRequest>, context: StepContext<JasperClient>) => Promise<RowOutcome<TStep>>;
  applied: (row: WorkRow<TRequest>, device: JasperDevice) => boolean;
  /** The outcome of a change found applied; by default the row succeeds with the line's state. */
  outcome?: (row: WorkRow<TRequest>, device: JasperDevice) => RowOutcome<TStep>;
}) {
  return perLineStep<JasperClient, TRequest, JasperDevice, TStep>({
    send: spec.send,
    read: (row, context) => context.client.getDevice(row.iccid!, callContext(row, context)),
    applied: (row, device) =>
      spec.applied(row, device)
        ? (spec.outcome?.(row, device) ?? { kind: 'succeeded', device: devicePatch(device) })
        : undefined,
    mapRejection: mapJasperRejection,
  });
}

const devicePatch = (device: JasperDevice) => ({
  status: normaliseJasperStatus(device.status),
  carrierStatus: device.status,
  carrierRatePlan: device.ratePlan ?? null,
  communicationPlan: device.communicationPlan ?? null,
  ...(device.msisdn ? { msisdn: device.msisdn } : {}),
});

/**
 * The original's Jasper post-steps, each asked for per bulk change (an option) or per row, each a step
 * of its own on the row: the cheapest fitting plan before a deactivation, the MSISDN read back after
 * an activation. A row they do not apply to (another target status) runs without them.
 */
const statusRequest = z.object({
  targetStatus: z.enum(Object.keys(jasperTargets) as [keyof typeof jasperTargets]),
  readMsisdn: yesNo.optional(),
  cheapestPlanBeforeDeactivation: yesNo.optional(),
});
type StatusRequest = z.infer<typeof statusRequest>;
type StatusStep = 'cheapest_plan' | 'update_status' | 'read_msisdn';

export const jasperStatusUpdate: Flow<JasperClient, StatusRequest, StatusStep> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
    if (
      request.cheapestPlanBeforeDeactivation &&
      jasperSettingsSchema.parse(settings).deactivationRatePlans.length === 0
    ) {
      return {
        field: 'cheapestPlanBeforeDeactivation',
        code: 'INVALID_FIELD',
        message:
          'The account lists no rate plans to choose from: set its settings.deactivationRatePlans (cheapest first)',
      };
    }
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
  firstStep: (request) =>
    request.cheapestPlanBeforeDeactivation && request.targetStatus === 'deactivated'
      ? 'cheapest_plan'
      : 'update_status',
  steps: {
    cheapest_plan: cheapestPlanStep,
    update_status: jasperStep<StatusRequest, 'read_msisdn'>({
      send: async (row, context) => {
        const status = jasperTargets[row.request.targetStatus];
        await context.client.editDevice(row.iccid!, { status }, callContext(row, context));
        return afterStatus(row, { status: normaliseJasperStatus(status), carrierStatus: status });
      },
      applied: (row, device) => device.status === jasperTargets[row.request.targetStatus],
      outcome: (row, device) => afterStatus(row, devicePatch(device)),
    }),
    read_msisdn: readMsisdnStep,
  },
};

/** The status is set: the row ends, or reads its new MSISDN back when it asked to. */
const afterStatus = (row: WorkRow<StatusRequest>, device: DevicePatch): RowOutcome<'read_msisdn'> =>
  row.request.readMsisdn && row.request.targetStatus === 'active'
    ? { kind: 'next', step: 'read_msisdn', device }
    : { kind: 'succeeded', device };

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
