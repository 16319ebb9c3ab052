import { z } from 'zod';
import type { ErrorCode } from '../../../core/errors.ts';
import type {
  DevicePatch,
  DeviceRecord,
  Flow,
  RowError,
  RowIssue,
  RowOutcome,
  WorkRow,
} from '../../../core/flow.ts';
import { checkIccid, checkImei, identifierField } from '../../../core/identifiers.ts';
import { callContext, perLineStep } from '../../per-line.ts';
import {
  type CarrierUsernameRequest,
  carrierUsernameRequest,
  usernamePatch,
} from '../../username-request.ts';
import {
  type Characteristic,
  characteristicValue,
  type TelegenceClient,
  type TelegenceLineDetail,
  type TelegenceSettings,
  telegenceDate,
  telegenceDateInput,
} from '../client.ts';
import { canMoveTelegenceLine, normaliseTelegenceStatus, telegenceTargets } from '../statuses.ts';

/** Carrier codes our client derives from AT&T's answers (adapter `parseError`), as row error codes. */
export const telegenceRejectionCodes: Record<string, ErrorCode> = {
  ESIM_REQUIRED: 'ESIM_REQUIRED',
  NOT_FOUND: 'DEVICE_NOT_FOUND',
};

export const mapTelegenceRejection = (error: RowError): RowError => {
  const code = error.carrierCode && telegenceRejectionCodes[error.carrierCode];
  if (code === 'ESIM_REQUIRED') {
    return { ...error, code, message: 'ICCID/IMEI swap failed: the device requires an eSIM profile' };
  }
  return code ? { ...error, code } : error;
};

/** A change's own settings the checks read: the bill cycle and the TACs of eSIM-only devices. */
const lineSettingsSchema = z
  .object({
    billCycleDay: z.number().int().min(1).max(28).default(1),
    esimOnlyTacs: z.array(z.string().regex(/^\d{8}$/)).default([]),
  })
  .loose();

const day = 86_400_000;

/** The first day of the bill cycle `now` is in (UTC). */
export function billCycleStart(billCycleDay: number, now = Date.now()): number {
  const today = new Date(now);
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth();
  const thisMonth = Date.UTC(year, month, billCycleDay);
  return thisMonth <= now ? thisMonth : Date.UTC(year, month - 1, billCycleDay);
}

/**
 * As the original checked rate plan files: not before the first day of the current bill cycle, and
 * less than 30 days ahead (original §3.7).
 */
function effectiveDateIssue(
  value: string | undefined,
  settings: Record<string, unknown>,
): RowIssue | undefined {
  if (!value) return undefined;
  const at = Date.parse(value);
  const { billCycleDay } = lineSettingsSchema.parse(settings);
  const start = billCycleStart(billCycleDay);
  if (at >= start && at < Date.now() + 30 * day) return undefined;
  return {
    field: 'effectiveDate',
    code: 'INVALID_EFFECTIVE_DATE',
    message: `The effective date must be on or after ${new Date(start).toISOString().slice(0, 10)} (the first day of the current bill cycle) and less than 30 days ahead`,
  };
}

const effectiveDate = telegenceDateInput.optional();
const reasonCode = z
  .string()
  .trim()
  .regex(/^[A-Z0-9_]{2,20}$/, 'A reason code is 2–20 capital letters, digits or _');

const isTac = (imei: string | null | undefined, tacs: string[]) => !!imei && tacs.includes(imei.slice(0, 8));

const cancelled = (device: DeviceRecord): RowIssue | undefined =>
  device.carrierStatus === 'C'
    ? { code: 'INVALID_TRANSITION', message: 'The line is cancelled on AT&T; it cannot be changed' }
    : undefined;

/**
 * One PATCH per line; reconciled by reading the line. With `readFirst`, the line is read before and a
 * line that already has the change is not written again.
 */
function patchStep<TRequest>(spec: {
  body: (row: WorkRow<TRequest>) => { effectiveDate?: string; serviceCharacteristic: Characteristic[] };
  applied: (row: WorkRow<TRequest>, line: TelegenceLineDetail) => boolean;
  success: (row: WorkRow<TRequest>, line: TelegenceLineDetail) => RowOutcome<never>;
  readFirst?: boolean;
}) {
  return perLineStep<TelegenceClient, TRequest, TelegenceLineDetail>({
    send: async (row, context) => {
      const call = callContext(row, context);
      const current = spec.readFirst ? await context.client.getLine(row.msisdn!, call) : undefined;
      if (current && spec.applied(row, current)) return spec.success(row, current);
      return spec.success(row, await context.client.updateLine(row.msisdn!, spec.body(row), call));
    },
    read: (row, context) => context.client.getLine(row.msisdn!, callContext(row, context)),
    applied: (row, line) => (spec.applied(row, line) ? spec.success(row, line) : undefined),
    mapRejection: mapTelegenceRejection,
  });
}

/** The inventory's view of a line after a change, read from AT&T's answer. */
export function linePatch(line: TelegenceLineDetail): DevicePatch {
  const characteristics = line.serviceCharacteristic;
  const status = characteristicValue(characteristics, 'subscriberStatus');
  const plan = characteristicValue(characteristics, 'singleUserCode');
  const sim = characteristicValue(characteristics, 'sim');
  const imei = characteristicValue(characteristics, 'BLIMEI');
  const ipAddress = characteristicValue(characteristics, 'ipAddress');
  return {
    ...(status ? { status: normaliseTelegenceStatus(status), carrierStatus: status } : {}),
    ...(plan ? { carrierRatePlan: plan } : {}),
    ...(sim ? { iccid: sim } : {}),
    ...(imei ? { imei } : {}),
    ...(ipAddress ? { ipAddress } : {}),
  };
}

const statusRequest = z.object({
  targetStatus: z.enum(Object.keys(telegenceTargets) as [keyof typeof telegenceTargets]),
  reasonCode,
  effectiveDate,
});
type StatusRequest = z.infer<typeof statusRequest>;

export const telegenceStatusUpdate: Flow<TelegenceClient, StatusRequest, 'update_status'> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
    const target = telegenceTargets[request.targetStatus];
    if (device.carrierStatus === target) {
      return {
        field: 'targetStatus',
        code: 'ALREADY_IN_STATUS',
        message: `The line is already ${request.targetStatus}`,
      };
    }
    if (device.carrierStatus && !canMoveTelegenceLine(device.carrierStatus, request.targetStatus)) {
      return {
        field: 'targetStatus',
        code: 'INVALID_TRANSITION',
        message: `A line in ${device.carrierStatus} cannot move to ${target} on AT&T (A active, S suspended, C cancelled)`,
      };
    }
    return effectiveDateIssue(request.effectiveDate, settings);
  },
  firstStep: 'update_status',
  steps: {
    update_status: patchStep<StatusRequest>({
      body: (row) => ({
        ...(row.request.effectiveDate ? { effectiveDate: telegenceDate(row.request.effectiveDate) } : {}),
        serviceCharacteristic: [
          { name: 'subscriberStatus', value: telegenceTargets[row.request.targetStatus] },
          { name: 'reasonCode', value: row.request.reasonCode },
        ],
      }),
      applied: (row, line) =>
        characteristicValue(line.serviceCharacteristic, 'subscriberStatus') ===
        telegenceTargets[row.request.targetStatus],
      success: (_row, line) => ({ kind: 'succeeded', device: linePatch(line) }),
    }),
  },
};

const ratePlanRequest = z.object({
  carrierRatePlan: z.string().trim().min(1),
  effectiveDate,
  /**
   * The line's optimisation group (original §3.7, the Mobility carrier plan CSV's OptimizationGroup):
   * ours, not AT&T's, so it is never sent; kept on the line with its new plan once AT&T took it.
   */
  optimizationGroup: z.string().trim().min(1).max(50).optional(),
});
type RatePlanRequest = z.infer<typeof ratePlanRequest>;

export const telegenceRatePlanChange: Flow<TelegenceClient, RatePlanRequest, 'update_rate_plan'> = {
  requestSchema: ratePlanRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
    if (device.carrierStatus && device.carrierStatus !== 'A') {
      return {
        field: 'carrierRatePlan',
        code: 'LINE_NOT_ACTIVE',
        message: `AT&T changes the rate plan of active lines only; this one is ${device.carrierStatus}`,
      };
    }
    return effectiveDateIssue(request.effectiveDate, settings);
  },
  firstStep: 'update_rate_plan',
  steps: {
    update_rate_plan: patchStep<RatePlanRequest>({
      body: (row) => ({
        effectiveDate: telegenceDate(row.request.effectiveDate ?? new Date().toISOString()),
        serviceCharacteristic: [{ name: 'singleUserCode', value: row.request.carrierRatePlan }],
      }),
      applied: (row, line) =>
        characteristicValue(line.serviceCharacteristic, 'singleUserCode') === row.request.carrierRatePlan,
      success: (row, line) => {
        const group = row.request.optimizationGroup;
        return {
          kind: 'succeeded',
          result: {
            carrierRatePlan: row.request.carrierRatePlan,
            ...(group ? { optimizationGroup: group } : {}),
          },
          device: { ...linePatch(line), ...(group ? { optimizationGroup: group } : {}) },
        };
      },
    }),
  },
};

const identifierRequest = z
  .object({
    newIccid: identifierField(checkIccid, 'newIccid').optional(),
    newImei: identifierField(checkImei, 'newImei').optional(),
    reasonCode: reasonCode.optional(),
  })
  .refine((request) => request.newIccid || request.newImei, { message: 'Give newIccid or newImei' });
type IdentifierRequest = z.infer<typeof identifierRequest>;

export const telegenceIdentifierChange: Flow<TelegenceClient, IdentifierRequest, 'change_equipment'> = {
  requestSchema: identifierRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
    const { esimOnlyTacs } = lineSettingsSchema.parse(settings);
    if (request.newImei && isTac(device.imei, esimOnlyTacs) && !isTac(request.newImei, esimOnlyTacs)) {
      return {
        field: 'newImei',
        code: 'ESIM_REQUIRED',
        message:
          'ICCID/IMEI swap refused: the line is on an eSIM-only device and the new IMEI is not eSIM-capable',
      };
    }
    return cancelled(device);
  },
  firstStep: 'change_equipment',
  steps: {
    change_equipment: perLineStep<TelegenceClient, IdentifierRequest, TelegenceLineDetail>({
      // The line is read first: the equipment change carries its service ZIP, SOC and technology
      // type, as AT&T's field usage sends them with a SIM or IMEI swap.
      send: async (row, context) => {
        const current = await context.client.getLine(row.msisdn!, callContext(row, context));
        const body = equipmentChange(row, current, context.client.settings);
        return swapped(row, await context.client.updateLine(row.msisdn!, body, callContext(row, context)));
      },
      read: (row, context) => context.client.getLine(row.msisdn!, callContext(row, context)),
      applied: (row, line) =>
        (!row.request.newIccid ||
          characteristicValue(line.serviceCharacteristic, 'sim') === row.request.newIccid) &&
        (!row.request.newImei ||
          characteristicValue(line.serviceCharacteristic, 'BLIMEI') === row.request.newImei)
          ? swapped(row, line)
          : undefined,
      mapRejection: mapTelegenceRejection,
    }),
  },
};

/**
 * A SIM / IMEI swap's characteristics: the reason, the new equipment, and what the line has where it
 * is known (`serviceZipCode`, `singleUserCode`, `technologyType`), as the field scripts send them.
 */
export function equipmentChange(
  row: WorkRow<IdentifierRequest>,
  line: TelegenceLineDetail,
  settings: TelegenceSettings,
): { serviceCharacteristic: Characteristic[] } {
  const known = (name: string, value: string | undefined) => (value ? [{ name, value }] : []);
  const characteristics = line.serviceCharacteristic;
  return {
    serviceCharacteristic: [
      ...known('reasonCode', row.request.reasonCode),
      ...known('serviceZipCode', characteristicValue(characteristics, 'serviceZipCode')),
      ...known('singleUserCode', characteristicValue(characteristics, 'singleUserCode')),
      ...known(
        'technologyType',
        characteristicValue(characteristics, 'BLDeviceTechnologyType') ?? settings.defaultTechnologyType,
      ),
      ...known('sim', row.request.newIccid),
      ...known('IMEI', row.request.newImei),
    ],
  };
}

const swapped = (row: WorkRow<IdentifierRequest>, line: TelegenceLineDetail): RowOutcome<never> => ({
  kind: 'succeeded',
  result: {
    previous: { iccid: row.iccid, imei: row.imei },
    ...(row.request.newIccid ? { iccid: row.request.newIccid } : {}),
    ...(row.request.newImei ? { imei: row.request.newImei } : {}),
  },
  device: linePatch(line),
});

/** The username is the line's AT&T contact name; cost centres go to billing (`withBillingFields`). */
const contactNameStep = patchStep<CarrierUsernameRequest>({
  body: (row) => ({ serviceCharacteristic: [{ name: 'contactName', value: row.request.username }] }),
  applied: (row, line) =>
    characteristicValue(line.serviceCharacteristic, 'contactName') === row.request.username,
  // A row run again (a retry, the same file twice) makes no second write.
  readFirst: true,
  success: (row) => ({
    kind: 'succeeded',
    result: usernamePatch(row.request),
    device: usernamePatch(row.request),
  }),
});

export const telegenceUsernameChange: Flow<TelegenceClient, CarrierUsernameRequest, 'update_contact_name'> = {
  requestSchema: carrierUsernameRequest,
  writesToCarrier: true,
  checkRow: (_request, device) => cancelled(device),
  firstStep: 'update_contact_name',
  steps: { update_contact_name: contactNameStep },
};
