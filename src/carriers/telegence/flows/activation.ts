import { z } from 'zod';
import { isCarrierError } from '../../../core/carrier-error.ts';
import { errorCodes } from '../../../core/errors.ts';
import { catalogId, codeList, numberList, yesNo } from '../../../core/field-types.ts';
import type {
  CarrierLimits,
  DevicePatch,
  Flow,
  RowIssue,
  RowOutcome,
  Step,
  StepContext,
  WorkRow,
} from '../../../core/flow.ts';
import { checkImei, identifierField } from '../../../core/identifiers.ts';
import { forEachRow, outcomeFromError } from '../../../core/outcomes.ts';
import { callContext, lanes, nextCheck, perLineChunk } from '../../per-line.ts';
import {
  type Characteristic,
  characteristicValue,
  type TelegenceActivationElement,
  type TelegenceActivationRequest,
  type TelegenceClient,
  telegenceMobilityService,
} from '../client.ts';
import { mapTelegenceRejection } from './line-changes.ts';
import { type StaticIpStep, staticIpSteps } from './static-ip.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
/** A Rev.io service type or package id. */
const billingCatalogNumber = z.coerce.number().int().positive();

const activationRequest = z.object({
  imei: identifierField(checkImei, 'imei'),
  billingAccountNumber: z
    .string()
    .trim()
    .regex(/^\d{9,13}$/, 'A billing account number (BAN) is 9–13 digits'),
  ratePlan: text(20),
  zipCode: z
    .string()
    .trim()
    .regex(/^\d{5}$/, 'A ZIP code is 5 digits'),
  firstName: text(50),
  lastName: text(50),
  streetNumber: text(10).optional(),
  streetDirection: text(2).optional(),
  streetName: text(60).optional(),
  city: text(40).optional(),
  state: z
    .string()
    .trim()
    .regex(/^[A-Z]{2}$/, 'A state is two capital letters')
    .optional(),
  addFeatureCodes: codeList.optional(),
  removeFeatureCodes: codeList.optional(),
  staticIp: yesNo.optional(),
  pdpName: text(40).optional(),
  apn: text(80).optional(),
  dataGroup: text(20).optional(),
  ratePool: text(40).optional(),
  /**
   * The id of AT&T's qualification of the service address (original §3.7 `QualificationToken`), sent
   * as the service's `serviceQualification`. How a token is obtained is not in any published contract.
   */
  qualificationToken: text(64).optional(),
  // The linked customer assignment, for the lines that get activated (original §3.7's second sheet).
  billingCustomerId: catalogId.optional(),
  customerRatePlanId: catalogId.optional(),
  customerPoolId: catalogId.optional(),
  createBillingService: yesNo.optional(),
  serviceTypeId: billingCatalogNumber.optional(),
  packageId: billingCatalogNumber.optional(),
  productIds: numberList.optional(),
  rates: numberList.optional(),
  prorate: yesNo.optional(),
  effectiveDate: z.iso.date().optional(),
});
export type ActivationRequest = z.infer<typeof activationRequest>;

type Row = WorkRow<ActivationRequest>;

/** The fields of an activation row that its linked customer assignment takes. */
const assignmentFields = [
  'billingCustomerId',
  'customerRatePlanId',
  'customerPoolId',
  'createBillingService',
  'serviceTypeId',
  'packageId',
  'productIds',
  'rates',
  'prorate',
  'effectiveDate',
] as const satisfies ReadonlyArray<keyof ActivationRequest>;
type Context = StepContext<TelegenceClient>;

/** The phases of a new service, in order. */
type ActivationStep = 'activate' | 'confirm_activation' | 'remove_features' | StaticIpStep;
type ActivationOutcome = RowOutcome<ActivationStep>;

/** AT&T takes at most 200 activations per request (carrier-apis §3.3). */
export const TELEGENCE_MAX_ACTIVATIONS = 200;

export function activationBody(row: Row): TelegenceActivationRequest {
  const request = row.request;
  const address = {
    ...(request.streetNumber ? { streetNumber: request.streetNumber } : {}),
    ...(request.streetDirection ? { streetDirection: request.streetDirection } : {}),
    ...(request.streetName ? { streetName: request.streetName } : {}),
    ...(request.city ? { city: request.city } : {}),
    ...(request.state ? { state: request.state } : {}),
    zipCode: request.zipCode,
  };
  const characteristics: Characteristic[] = [
    { name: 'sim', value: row.iccid! },
    { name: 'IMEI', value: request.imei },
    { name: 'singleUserCode', value: request.ratePlan },
    { name: 'serviceZipCode', value: request.zipCode },
    ...(request.addFeatureCodes ?? []).map((code, index) => ({
      name: `offeringCode${index + 1}`,
      value: code,
    })),
    ...(request.dataGroup ? [{ name: 'dataGroupIDCode1', value: request.dataGroup }] : []),
  ];
  return {
    billingAccount: { id: request.billingAccountNumber },
    relatedParty: [{ role: 'subscriber', firstName: request.firstName, lastName: request.lastName, address }],
    service: {
      name: '',
      category: { ...telegenceMobilityService.category },
      serviceSpecification: { ...telegenceMobilityService.serviceSpecification },
      ...(request.qualificationToken ? { serviceQualification: { id: request.qualificationToken } } : {}),
      serviceCharacteristic: characteristics,
    },
  };
}

const qualifiedAddressFields = ['streetNumber', 'streetName', 'city', 'state'] as const;

/**
 * A qualification is of one address: a row that names one gives that address in full, as the
 * original required (its token had to match a qualified address with the same street fields).
 */
function qualifiedAddressIssue(request: ActivationRequest): RowIssue | undefined {
  if (!request.qualificationToken) return undefined;
  const missing = qualifiedAddressFields.find((field) => !request[field]);
  return missing
    ? {
        field: missing,
        code: 'REQUIRED',
        message: `${missing} is required with a qualificationToken: the qualified address is given in full`,
      }
    : undefined;
}

/** Rows of one billing account that AT&T refuses up front: the rest of the batch is still posted. */
async function billingAccountProblems(
  rows: Row[],
  context: Context,
): Promise<Map<string, ActivationOutcome>> {
  const problems = new Map<string, ActivationOutcome>();
  const bans = [...new Set(rows.map((row) => row.request.billingAccountNumber))];
  for (const ban of bans) {
    let outcome: ActivationOutcome | undefined;
    try {
      const carried = rows.filter((row) => row.request.billingAccountNumber === ban);
      const account = await context.client.billingAccount(ban, callContext(carried, context));
      if (account.status.toLowerCase() !== 'active') {
        outcome = {
          kind: 'failed',
          error: {
            code: 'BILLING_ACCOUNT_INACTIVE',
            message: `Billing account ${ban} is ${account.status} on AT&T`,
          },
        };
      }
    } catch (error) {
      outcome =
        isCarrierError(error) && error.httpStatus === 404
          ? {
              kind: 'failed',
              error: {
                code: 'BILLING_ACCOUNT_NOT_FOUND',
                message: `AT&T does not know billing account ${ban}`,
              },
            }
          : outcomeFromError(error);
      if (outcome.kind === 'retry') outcome = { ...outcome, ambiguous: false };
    }
    if (outcome)
      for (const row of rows) if (row.request.billingAccountNumber === ban) problems.set(row.id, outcome);
  }
  return problems;
}

const activateStep: Step<TelegenceClient, ActivationRequest, ActivationStep> = {
  chunkSize: (limits: CarrierLimits) => Math.max(1, Math.min(TELEGENCE_MAX_ACTIVATIONS, limits.batchSize)),
  async run(rows, context) {
    const refused = await billingAccountProblems(rows, context);
    const sendable = rows.filter((row) => !refused.has(row.id));
    const outcomes = new Map(refused);
    if (sendable.length > 0) {
      let sent: ActivationOutcome;
      try {
        const activationId = await context.client.activate(
          sendable.map(activationBody),
          callContext(sendable, context),
        );
        // Kept on the rows before anything else: after a crash, the rows follow this request.
        await context.recordRequest(sendable, activationId);
        sent = {
          kind: 'next',
          step: 'confirm_activation',
          waitUntil: nextCheck(context),
          carrierRequestId: activationId,
          result: { activationId },
        };
      } catch (error) {
        sent = outcomeFromError(error, mapTelegenceRejection);
      }
      for (const row of sendable) outcomes.set(row.id, sent);
    }
    return rows.map((row) => outcomes.get(row.id)!);
  },
  /**
   * A row left here after a crash either has the activation id (the POST was answered: follow it) or
   * not (the POST may or may not have reached AT&T). AT&T cannot be asked about a SIM by ICCID before it
   * has a subscriber number, and posting it again could activate a second line, so such a row fails
   * with OUTCOME_UNKNOWN for the operator to check; it is never re-sent blindly.
   */
  async reconcile(rows) {
    return rows.map(
      (row): ActivationOutcome =>
        row.carrierRequestId
          ? {
              kind: 'next',
              step: 'confirm_activation',
              waitUntil: Date.now(),
              result: { activationId: row.carrierRequestId },
            }
          : {
              kind: 'failed',
              error: {
                code: errorCodes.OUTCOME_UNKNOWN,
                message:
                  'The activation request got no answer from AT&T, so whether the SIM was activated is unknown; check it on AT&T before submitting it again',
              },
            },
    );
  },
};

/** What a confirmed activation does to the inventory. */
const activatedPatch = (row: Row, subscriberNumber: string): DevicePatch => ({
  msisdn: subscriberNumber,
  status: 'active',
  carrierStatus: 'A',
  carrierRatePlan: row.request.ratePlan,
  imei: row.request.imei,
});

/** After activation: drop features, then static IP, each only when the row asked for it. */
export function afterActivation(
  row: Row,
  from: 'confirm_activation' | 'remove_features',
): 'remove_features' | 'reserve_ip' | undefined {
  if (from === 'confirm_activation' && row.request.removeFeatureCodes?.length) return 'remove_features';
  if (row.request.staticIp) return 'reserve_ip';
  return undefined;
}

function activationOutcome(
  row: Row,
  element: TelegenceActivationElement | undefined,
  context: Context,
): ActivationOutcome {
  if (!element) {
    return {
      kind: 'failed',
      error: {
        code: 'ACTIVATION_NOT_FOUND',
        message: `AT&T's activation ${row.carrierRequestId} does not list SIM ${row.iccid}`,
      },
    };
  }
  const service = element.service;
  const status = service.status?.toLowerCase();
  // eSIM-only devices: AT&T answers with the bare service path instead of a service (carrier-apis §3.3).
  if (service.name === '/service/') {
    return {
      kind: 'failed',
      error: { code: 'ESIM_REQUIRED', message: 'Activation failed: the device needs an eSIM profile' },
    };
  }
  if (status === 'rejected') {
    const code = service.error?.code ?? undefined;
    return {
      kind: 'failed',
      error: {
        code: 'ACTIVATION_REJECTED',
        message: `AT&T rejected the activation: ${service.error?.description ?? 'no reason given'}`,
        ...(code ? { carrierCode: code } : {}),
      },
    };
  }
  if (status === 'active' && service.subscriberNumber) {
    const msisdn = service.subscriberNumber;
    const result = { msisdn, activated: true, activationId: row.carrierRequestId };
    const device = activatedPatch(row, msisdn);
    const next = afterActivation(row, 'confirm_activation');
    return next ? { kind: 'next', step: next, result, device } : { kind: 'succeeded', result, device };
  }
  return { kind: 'next', step: 'confirm_activation', waitUntil: nextCheck(context) };
}

/** One status GET per activation request in the chunk; every row is matched to its SIM's element. */
const confirmActivationStep: Step<TelegenceClient, ActivationRequest, ActivationStep> = {
  chunkSize: () => 1000,
  async run(rows, context) {
    const outcomes = new Map<string, ActivationOutcome>();
    const byRequest = Map.groupBy(rows, (row) => row.carrierRequestId ?? '');
    for (const [activationId, requestRows] of byRequest) {
      try {
        const elements = await context.client.activationStatus(
          activationId,
          callContext(requestRows, context),
        );
        const bySim = new Map(
          elements.map((element) => [
            characteristicValue(element.service.serviceCharacteristic, 'sim'),
            element,
          ]),
        );
        for (const row of requestRows)
          outcomes.set(row.id, activationOutcome(row, bySim.get(row.iccid!), context));
      } catch (error) {
        const outcome = outcomeFromError(error, mapTelegenceRejection);
        for (const row of requestRows)
          outcomes.set(row.id, outcome.kind === 'retry' ? { ...outcome, ambiguous: false } : outcome);
      }
    }
    return rows.map((row) => outcomes.get(row.id)!);
  },
};

/** Removing features is safe to repeat (removing one the line lacks changes nothing). */
const removeFeaturesStep: Step<TelegenceClient, ActivationRequest, ActivationStep> = {
  chunkSize: perLineChunk,
  run: (rows, context) =>
    forEachRow(rows, lanes(context), async (row): Promise<ActivationOutcome> => {
      const msisdn = String(row.result?.msisdn);
      try {
        await context.client.updateLine(
          msisdn,
          {
            serviceCharacteristic: (row.request.removeFeatureCodes ?? []).map((code) => ({
              name: 'removeOfferingCode',
              value: code,
            })),
          },
          callContext(row, context),
        );
      } catch (error) {
        const outcome = outcomeFromError(error, mapTelegenceRejection);
        if (outcome.kind !== 'failed')
          return outcome.kind === 'retry' ? { ...outcome, ambiguous: false } : outcome;
        return {
          kind: 'failed',
          error: {
            ...outcome.error,
            code: 'FEATURE_REMOVAL_FAILED',
            message: `The line is active, but removing its features failed: ${outcome.error.message}`,
          },
        };
      }
      const next = afterActivation(row, 'remove_features');
      const result = { removedFeatureCodes: row.request.removeFeatureCodes };
      return next ? { kind: 'next', step: next, result } : { kind: 'succeeded', result };
    }),
};

/**
 * New mobility service (original §5.2): activate in batches of ≤200, confirm by polling, remove the
 * requested features, then static IPs for the rows that asked. Each phase is a step with waiting rows;
 * nothing sleeps, and each phase runs once per row.
 */
export const telegenceActivation: Flow<TelegenceClient, ActivationRequest, ActivationStep> = {
  requestSchema: activationRequest,
  writesToCarrier: true,
  newLines: { keyField: 'iccid' },
  checkRow: qualifiedAddressIssue,
  firstStep: 'activate',
  followUp: {
    changeType: 'customer_assignment',
    fields: (request) =>
      request.billingCustomerId
        ? Object.fromEntries(assignmentFields.map((field) => [field, request[field]]))
        : undefined,
  },
  steps: {
    activate: activateStep,
    confirm_activation: confirmActivationStep,
    remove_features: removeFeaturesStep,
    ...staticIpSteps,
  },
};
