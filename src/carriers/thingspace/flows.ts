import { z } from 'zod';
import { isCarrierError } from '../../core/carrier-error.ts';
import type { DevicePatch, Flow, RowError, RowOutcome, Step, StepContext, WorkRow } from '../../core/flow.ts';
import { checkIccid } from '../../core/identifiers.ts';
import { forEachRow, outcomeFromError } from '../../core/outcomes.ts';
import type { Site } from '../../core/site.ts';
import { callContext, perLineChunk } from '../per-line.ts';
import {
  type Change4gOption,
  type DeviceId,
  isRuleCode,
  lineFromIds,
  type PlaceOfUse,
  type RequestStatus,
  type ThingSpaceClient,
  thingSpaceDeactivationReasons,
} from './client.ts';
import { type AsyncAction, type LineRead, prefetchLines, readBack } from './line-reads.ts';
import {
  finalStateOf,
  firstStepFor,
  normaliseThingSpaceState,
  type ThingSpaceTarget,
  thingSpaceTargets,
} from './statuses.ts';

type Context = StepContext<ThingSpaceClient>;

const optionalText = (max: number) => z.string().trim().min(1).max(max).optional();

const statusRequest = z.object({
  targetStatus: z.enum(thingSpaceTargets),
  reasonCode: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(
      z.enum(thingSpaceDeactivationReasons, {
        error: 'ThingSpace documents one deactivation reason: FF (general administration)',
      }),
    )
    .optional(),
  servicePlan: z.string().trim().min(1).optional(),
  mdnZipCode: z
    .string()
    .regex(/^\d{5}$/, 'mdnZipCode is 5 digits')
    .optional(),
  // The line's primary place of use (the original's thingSpacePPU), sent on activation.
  firstName: optionalText(50),
  lastName: optionalText(50),
  streetNumber: optionalText(10),
  streetName: optionalText(60),
  city: optionalText(40),
  state: optionalText(20),
  zipCode: z
    .string()
    .trim()
    .regex(/^\d{5}$/, 'zipCode is 5 digits')
    .optional(),
});
type StatusRequest = z.infer<typeof statusRequest>;

/** The place-of-use fields a row gives all of, or none of. */
const placeOfUseFields = ['firstName', 'lastName', 'streetName', 'city', 'state', 'zipCode'] as const;

/** The row's own place of use, when it gives one; an account default applies otherwise. */
function rowPlaceOfUse(request: Partial<StatusRequest>): PlaceOfUse | undefined {
  const { firstName, lastName, streetNumber, streetName, city, state, zipCode } = request;
  if (!firstName || !lastName || !streetName || !city || !state || !zipCode) return undefined;
  return {
    customerName: { firstName, lastName },
    address: {
      addressLine1: [streetNumber, streetName].filter(Boolean).join(' '),
      city,
      state,
      zip: zipCode,
      country: 'USA',
    },
  };
}

/**
 * A row without a place of use takes its line's site's (or the tenant's default site's), when the site
 * names a contact and has a 5-digit ZIP code, as Verizon's place of use needs; the account's default
 * applies otherwise.
 */
function placeOfUseFromSite(request: StatusRequest, site: Site): Partial<StatusRequest> | undefined {
  const givesOwn = placeOfUseFields.some((field) => request[field] !== undefined);
  if (givesOwn || !site.contactFirstName || !site.contactLastName || !/^\d{5}$/.test(site.zipCode))
    return undefined;
  return {
    firstName: site.contactFirstName,
    lastName: site.contactLastName,
    streetName: site.addressLine1,
    city: site.city,
    state: site.state,
    zipCode: site.zipCode,
  };
}

/**
 * The fields any ThingSpace row may carry: each flow has its own request, and the steps they share
 * (confirm, reconcile) read what their action needs.
 */
type ThingSpaceRequest = Partial<StatusRequest> & {
  carrierRatePlan?: string;
  newIccid?: string;
  newImei?: string;
};

const deviceIdsOf = (row: WorkRow<unknown>): DeviceId[] => [
  { kind: 'iccid', id: row.iccid! },
  ...(row.imei ? [{ kind: 'imei', id: row.imei }] : []),
];

/** Splits rows into carrier requests: one per distinct key (same plan, zip, reason), at most `size` each. */
function batches<T>(rows: WorkRow<T>[], size: number, key: (row: WorkRow<T>) => string): WorkRow<T>[][] {
  const groups = new Map<string, WorkRow<T>[]>();
  // In file order, whatever order the rows were claimed in: a request lists its lines as the file does.
  const inFileOrder = [...rows].sort((a, b) => a.rowNumber - b.rowNumber);
  for (const row of inFileOrder) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return [...groups.values()].flatMap((group) =>
    Array.from({ length: Math.ceil(group.length / size) }, (_, index) =>
      group.slice(index * size, (index + 1) * size),
    ),
  );
}

const faultToError = (fault: { faultcode?: string; faultstring?: string } | undefined): RowError => ({
  code: isRuleCode(fault?.faultcode) ? 'CARRIER_RULE' : 'CARRIER_REJECTED',
  message: fault?.faultstring ?? 'ThingSpace refused the change',
  ...(fault?.faultcode ? { carrierCode: fault.faultcode } : {}),
});

const waitAgain = (
  context: Context,
  extra: { result?: Record<string, unknown>; carrierRequestId?: string } = {},
): RowOutcome<'confirm'> => ({
  kind: 'next',
  step: 'confirm',
  waitUntil: Date.now() + context.account.limits.checkIntervalMs,
  ...extra,
});

/**
 * Sends one asynchronous request per batch and leaves its rows waiting for the result. The request id
 * is saved before anything else, so a crash here is followed up, not re-sent.
 */
async function sendInBatches<T>(
  rows: WorkRow<T>[],
  context: Context,
  action: AsyncAction,
  options: { key: (row: WorkRow<T>) => string; send: (batch: WorkRow<T>[]) => Promise<string> },
): Promise<RowOutcome<'confirm'>[]> {
  const outcomes = new Map<string, RowOutcome<'confirm'>>();
  // Without a callback the results are polled; a refused registration is recorded on the account and
  // tried again by the next request.
  await context.client.ensureCallback(callContext(null, context));
  for (const batch of batches(rows, context.account.limits.batchSize, options.key)) {
    try {
      const requestId = await options.send(batch);
      await context.recordRequest(batch, requestId);
      for (const row of batch) {
        outcomes.set(row.id, {
          kind: 'next',
          step: 'confirm',
          waitUntil: Date.now() + context.account.limits.checkIntervalMs,
          carrierRequestId: requestId,
          result: { action },
        });
      }
    } catch (error) {
      for (const row of batch) outcomes.set(row.id, outcomeFromError(error));
    }
  }
  return rows.map((row) => outcomes.get(row.id)!);
}

/**
 * After a crash: follow the saved request; else watch the line, since an accepted request may not have
 * been applied yet. A line that never moves is sent again after a grace (see the confirm step).
 */
function reconcileAsync(action: AsyncAction) {
  return async (rows: WorkRow<ThingSpaceRequest>[], context: Context) => {
    const reads = await prefetchLines(
      rows.filter((row) => !row.carrierRequestId),
      () => action,
      context,
    );
    return forEachRow(
      rows,
      context.account.limits.maxConcurrent,
      async (row): Promise<RowOutcome<'confirm'>> => {
        if (row.carrierRequestId) return waitAgain(context, { result: { action } });
        const read = await reads.of(row);
        if (read.applied) return confirmed({ ...row, result: { ...row.result, action } }, context, read.line);
        return waitAgain(context, { result: { action, unsentSince: Date.now() } });
      },
    );
  };
}

/** The action a waiting row follows; a line found already pending activation follows that activation. */
const actionOf = (row: WorkRow<ThingSpaceRequest>) =>
  (row.result?.action as AsyncAction | undefined) ?? 'activate';

/** What a confirmed action did to the line, read back from the carrier where it assigned something. */
async function confirmed(
  row: WorkRow<ThingSpaceRequest>,
  context: Context,
  reported?: { msisdn: string | null; ipAddress: string | null },
) {
  const action = actionOf(row);
  if (action === 'change_plan') {
    const plan = row.request.carrierRatePlan!;
    return succeeded({ carrierRatePlan: plan }, { carrierRatePlan: plan });
  }
  if (action === 'change_identifier') {
    const newIccid = row.request.newIccid && checkIccid(row.request.newIccid).value;
    const { newImei } = row.request;
    return succeeded(
      { ...(newIccid ? { iccid: newIccid } : {}), ...(newImei ? { imei: newImei } : {}) },
      { ...(newIccid ? { newIccid } : {}), ...(newImei ? { newImei } : {}) },
    );
  }
  const final = finalStateOf[action];
  if (final !== 'active') {
    // Only active and suspended lines have a number and an address (carrier-apis §1.6).
    const released = final === 'deactive' ? { msisdn: null, ipAddress: null } : {};
    return succeeded({ status: normaliseThingSpaceState(final), carrierStatus: final, ...released });
  }
  const line =
    reported?.msisdn && reported.ipAddress
      ? reported
      : await context.client.getDevice(row.iccid!, callContext(row, context));
  return succeeded(
    {
      status: 'active',
      carrierStatus: 'active',
      ...(action === 'activate' ? { carrierRatePlan: planOf(row, context) } : {}),
      msisdn: line?.msisdn ?? null,
      ipAddress: line?.ipAddress ?? null,
    },
    { msisdn: line?.msisdn ?? null, ipAddress: line?.ipAddress ?? null },
  );
}

const succeeded = (device: DevicePatch, result: Record<string, unknown> = {}): RowOutcome<never> => ({
  kind: 'succeeded',
  device,
  result,
});

const callbackSchema = z
  .object({
    status: z.string(),
    deviceResponse: z
      .record(
        z.string(),
        z
          .object({
            deviceIds: z.array(z.object({ id: z.string(), kind: z.string() })).optional(),
            ipAddress: z.string().optional(),
          })
          .loose(),
      )
      .optional(),
    faultResponse: z
      .object({ faultcode: z.string().optional(), faultstring: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();

/** The identifiers a row's line may go by in a request's sub-requests, before or after a swap. */
const rowIdentifiers = (row: WorkRow<ThingSpaceRequest>) =>
  new Set(
    [row.iccid, row.imei, row.request.newIccid, row.request.newImei].filter((id): id is string => !!id),
  );

/** What a request's v2 status says of one row's line. */
function statusOfLine(row: WorkRow<ThingSpaceRequest>, status: RequestStatus) {
  const ids = rowIdentifiers(row);
  const listed = status.subRequests?.find((sub) => sub.ids.some((id) => ids.has(id.id)));
  return {
    listed,
    lineStatus: listed?.status.toLowerCase(),
    overallPending: ['pending', 'unknown'].includes(status.status.toLowerCase()),
  };
}

/**
 * Without a callback, each line's result from the request's v2 status where it lists the line, and
 * from the line itself: a listed line still `Pending` waits, a listed failure fails; a line whose
 * state shows the action is confirmed. A line the status does not list is never given the request's
 * overall status: once the request is over and the line has not moved, it failed on its own.
 *
 * This is the part the status decides alone; undefined when the line must be read (`fromLine`).
 */
function fromStatus(
  row: WorkRow<ThingSpaceRequest>,
  status: RequestStatus,
  context: Context,
): RowOutcome<'confirm'> | undefined {
  const { listed, lineStatus, overallPending } = statusOfLine(row, status);
  if (lineStatus === 'pending') return waitAgain(context);
  if (lineStatus !== undefined && lineStatus !== 'success') {
    return {
      kind: 'failed',
      error: {
        code: 'CARRIER_REJECTED',
        message: `ThingSpace reports ${listed?.status} for this line in request ${status.requestId}`,
      },
    };
  }
  if (context.client.callbacksRegistered) {
    // Results come by callback: no line is read while its result may still be on its way, and one more
    // interval is given once the status says it is done.
    const done = listed ? lineStatus === 'success' : !overallPending;
    if (!done) return waitAgain(context);
    if (!row.result?.doneWithoutCallback) {
      return waitAgain(context, { result: { ...row.result, doneWithoutCallback: true } });
    }
  }
  return undefined;
}

/** A polled row whose line has been read: confirmed, waiting, or failed on its own. */
async function fromLine(
  row: WorkRow<ThingSpaceRequest>,
  status: RequestStatus,
  read: LineRead,
  context: Context,
): Promise<RowOutcome<'confirm'>> {
  if (read.applied) return confirmed(row, context, read.line);
  // Listed as done: the line may lag behind the status by a moment. A request still under way (or whose
  // status is unknown) may yet move the line.
  const { listed, overallPending } = statusOfLine(row, status);
  if (listed || overallPending) return waitAgain(context);
  const action = actionOf(row);
  // A list that did not name the line says it has not moved, not where it is: read it for the message.
  if (read.listed) return fromLine(row, status, await readBack(row, action, context), context);
  return {
    kind: 'failed',
    error: {
      code: 'CARRIER_REJECTED',
      message: `ThingSpace finished request ${status.requestId} (${status.status}) and this line is ${read.line?.state ?? 'not on the account'}: the ${action.replace('_', ' ')} did not take`,
    },
  };
}

/**
 * Waits for the carrier's result: a callback already stored on the row, else the request's status and
 * the line itself, else (after a crash, with no request id) the line's state. Rows still pending wait
 * again, up to the account's maximum wait (then WAIT_TIMEOUT). The lines that must be read are read
 * together (`prefetchLines`), after everything the callbacks and statuses decide alone.
 */
function confirmStep<TAction extends AsyncAction>(
  /** The flow's own action steps: a row whose request never left is sent again through its own. */
  actions: readonly TAction[],
): Step<ThingSpaceClient, ThingSpaceRequest, TAction | 'confirm'> {
  return {
    chunkSize: () => 500,
    async run(rows, context) {
      const statuses = new Map<string, Promise<RequestStatus>>();
      const statusOf = (requestId: string) => {
        if (!statuses.has(requestId)) {
          const carried = rows.filter((row) => row.carrierRequestId === requestId);
          const status = context.client
            .requestStatus(requestId, callContext(carried, context))
            // A status ThingSpace will not give (the v2 page is written for eUICC requests) leaves each
            // line to its own state: the lines that moved are confirmed, the others wait.
            .catch((error: unknown): RequestStatus => {
              if (isCarrierError(error) && error.kind === 'rejected') return { requestId, status: 'Unknown' };
              throw error;
            });
          statuses.set(requestId, status);
        }
        return statuses.get(requestId)!;
      };
      const callbacks = await context.carrierResults(rows);
      type Decided = RowOutcome<TAction | 'confirm'>;
      // First what the callbacks and the requests' statuses decide without reading any line.
      const decided = await forEachRow(
        rows,
        context.account.limits.maxConcurrent,
        async (row): Promise<Decided> => {
          const callback = callbackSchema.safeParse(callbacks.get(row.id));
          if (callback.success) {
            if (callback.data.status !== 'Success')
              return { kind: 'failed', error: faultToError(callback.data.faultResponse) };
            const response = Object.values(callback.data.deviceResponse ?? {})[0];
            return confirmed(
              row,
              context,
              response?.deviceIds ? lineFromIds(response.deviceIds, response.ipAddress) : undefined,
            );
          }
          if (row.carrierRequestId)
            return fromStatus(row, await statusOf(row.carrierRequestId), context) ?? toRead;
          return toRead;
        },
      );
      const reading = rows.filter((_, index) => decided[index] === toRead);
      const reads = await prefetchLines(reading, actionOf, context);
      const read = await forEachRow(
        reading,
        context.account.limits.maxConcurrent,
        async (row): Promise<Decided> => {
          const line = await reads.of(row);
          if (row.carrierRequestId) return fromLine(row, await statusOf(row.carrierRequestId), line, context);
          if (line.applied) return confirmed(row, context, line.line);
          // Reconciled without a request id and the line has not moved: the request most likely never
          // left, but the carrier may apply accepted requests late. Send again only after a grace.
          const unsentSince = row.result?.unsentSince;
          if (
            typeof unsentSince === 'number' &&
            Date.now() - unsentSince > 2 * context.account.limits.checkIntervalMs
          ) {
            const resendTo = actions.find((candidate) => candidate === actionOf(row));
            // Sent again only on the line's own read: a list that did not name it is not proof enough.
            const own = line.listed ? await readBack(row, actionOf(row), context) : line;
            if (own.applied) return confirmed(row, context, own.line);
            if (resendTo) return { kind: 'next', step: resendTo };
          }
          return waitAgain(context);
        },
      );
      let next = 0;
      return decided.map((outcome) => (outcome === toRead ? read[next++] : outcome));
    },
  };
}

/** The first pass's mark on a row whose line must be read before it can be decided. */
const toRead: RowOutcome<'confirm'> = { kind: 'next', step: 'confirm' };

const planOf = (row: WorkRow<ThingSpaceRequest>, context: Context) =>
  row.request.servicePlan ?? context.client.settings.defaultServicePlan ?? '';
const zipOf = (row: WorkRow<ThingSpaceRequest>, context: Context) =>
  row.request.mdnZipCode ?? context.client.settings.defaultMdnZipCode ?? '';
const placeOfUseOf = (row: WorkRow<ThingSpaceRequest>, context: Context) =>
  rowPlaceOfUse(row.request) ?? context.client.settings.primaryPlaceOfUse;

const activating = (target: ThingSpaceTarget) => target === 'active' || target === 'pending_activation';

type StatusStep = 'already' | 'add' | 'activate' | 'restore' | 'suspend' | 'deactivate' | 'confirm';

export const thingSpaceStatusUpdate: Flow<ThingSpaceClient, StatusRequest, StatusStep> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
    const given = placeOfUseFields.filter((field) => request[field] !== undefined);
    const missing = placeOfUseFields.find((field) => request[field] === undefined);
    if (given.length > 0 && missing) {
      return {
        field: missing,
        code: 'REQUIRED',
        message: `A place of use needs ${placeOfUseFields.join(', ')} (streetNumber optional); ${missing} is missing`,
      };
    }
    const step = firstStepFor(request.targetStatus, device.carrierStatus);
    if (!step) {
      return {
        field: 'targetStatus',
        code: 'INVALID_TRANSITION',
        message: `A line in "${device.carrierStatus ?? 'not on the account'}" cannot become ${request.targetStatus} on ThingSpace`,
      };
    }
    const needsActivation = ['add', 'activate'].includes(step) && activating(request.targetStatus);
    if (needsActivation && !request.servicePlan && !settings.defaultServicePlan) {
      return {
        field: 'servicePlan',
        code: 'REQUIRED',
        message: 'Activation needs a servicePlan (or a default on the account)',
      };
    }
    if (needsActivation && !request.mdnZipCode && !settings.defaultMdnZipCode) {
      return {
        field: 'mdnZipCode',
        code: 'REQUIRED',
        message: 'Activation needs an mdnZipCode (or a default on the account)',
      };
    }
    return undefined;
  },
  fromSite: (request, site) =>
    activating(request.targetStatus) ? placeOfUseFromSite(request, site) : request,
  firstStep: (request, device) => firstStepFor(request.targetStatus, device.carrierStatus) ?? 'already',
  steps: {
    already: {
      chunkSize: () => 1000,
      run: async (rows) => rows.map(() => ({ kind: 'succeeded', result: { unchanged: true } })),
    },
    add: {
      chunkSize: (limits) => limits.batchSize,
      async run(rows, context) {
        const outcomes = new Map<string, RowOutcome<StatusStep>>();
        for (const batch of batches(rows, context.account.limits.batchSize, () => '')) {
          try {
            const results = await context.client.add(batch.map(deviceIdsOf), callContext(batch, context));
            for (const row of batch) {
              const answer =
                results.find((result) => result.deviceIds.some((id) => id.id === row.iccid))?.response ?? '';
              // "Already exists" means the line is on the account: what adding wanted (as the original had it).
              const added = answer === 'Success' || /already exists/i.test(answer);
              outcomes.set(
                row.id,
                !added
                  ? {
                      kind: 'failed',
                      error: {
                        code: 'CARRIER_REJECTED',
                        message: answer || 'ThingSpace did not add the line',
                      },
                    }
                  : activating(row.request.targetStatus)
                    ? { kind: 'next', step: 'activate' }
                    : succeeded({ status: 'inventory', carrierStatus: 'pre-active' }),
              );
            }
          } catch (error) {
            for (const row of batch) outcomes.set(row.id, outcomeFromError(error));
          }
        }
        return rows.map((row) => outcomes.get(row.id)!);
      },
      reconcile: (rows, context) =>
        forEachRow(
          rows,
          context.account.limits.maxConcurrent,
          async (row): Promise<RowOutcome<StatusStep>> => {
            const line = await context.client.getDevice(row.iccid!, callContext(row, context));
            if (!line) return { kind: 'resend' };
            return activating(row.request.targetStatus)
              ? { kind: 'next', step: 'activate' }
              : succeeded({ status: 'inventory', carrierStatus: 'pre-active' });
          },
        ),
    },
    activate: {
      chunkSize: (limits) => limits.batchSize,
      async run(rows, context) {
        const outcomes = await sendInBatches(rows, context, 'activate', {
          // A request's place of use applies to every line in it: lines with different ones go apart.
          key: (row) =>
            `${planOf(row, context)}|${zipOf(row, context)}|${JSON.stringify(placeOfUseOf(row, context) ?? null)}`,
          send: (batch) =>
            context.client.activate(
              {
                devices: batch.map(deviceIdsOf),
                servicePlan: planOf(batch[0], context),
                mdnZipCode: zipOf(batch[0], context),
                primaryPlaceOfUse: placeOfUseOf(batch[0], context),
              },
              callContext(batch, context),
            ),
        });
        // Pending activation is the target itself for some rows: they are done once the carrier accepted.
        return outcomes.map((outcome, index) =>
          outcome.kind === 'next' && rows[index].request.targetStatus === 'pending_activation'
            ? succeeded(
                {
                  status: 'pending_activation',
                  carrierStatus: 'pending activation',
                  carrierRatePlan: planOf(rows[index], context),
                },
                { carrierRequestId: outcome.carrierRequestId },
              )
            : outcome,
        );
      },
      reconcile: reconcileAsync('activate'),
    },
    restore: {
      chunkSize: (limits) => limits.batchSize,
      run: (rows, context) =>
        sendInBatches(rows, context, 'restore', {
          key: () => '',
          send: (batch) =>
            context.client.act('restore', batch.map(deviceIdsOf), {}, callContext(batch, context)),
        }),
      reconcile: reconcileAsync('restore'),
    },
    suspend: {
      chunkSize: (limits) => limits.batchSize,
      run: (rows, context) =>
        sendInBatches(rows, context, 'suspend', {
          key: () => '',
          send: (batch) =>
            context.client.act('suspend', batch.map(deviceIdsOf), {}, callContext(batch, context)),
        }),
      reconcile: reconcileAsync('suspend'),
    },
    deactivate: {
      chunkSize: (limits) => limits.batchSize,
      run: (rows, context) =>
        sendInBatches(rows, context, 'deactivate', {
          key: () => '',
          send: (batch) =>
            context.client.act(
              'deactivate',
              batch.map(deviceIdsOf),
              // FF: general administration, the only reason Verizon documents (and the request accepts).
              { reasonCode: 'FF' },
              callContext(batch, context),
            ),
        }),
      reconcile: reconcileAsync('deactivate'),
    },
    confirm: confirmStep(['activate', 'restore', 'suspend', 'deactivate']),
  },
};

const planRequest = z.object({ carrierRatePlan: z.string().trim().min(1) });
type PlanRequest = z.infer<typeof planRequest>;

export const thingSpaceRatePlanChange: Flow<ThingSpaceClient, PlanRequest, 'change_plan' | 'confirm'> = {
  requestSchema: planRequest,
  writesToCarrier: true,
  checkRow(_request, device) {
    // Known in advance (carrier-apis §1.5): plans change only on active lines, never while suspended.
    if (device.carrierStatus?.toLowerCase() !== 'active') {
      return {
        field: 'carrierRatePlan',
        code: 'CARRIER_RULE',
        message: `ThingSpace changes the plan of active lines only; this line is "${device.carrierStatus ?? 'not on the account'}"`,
      };
    }
    return undefined;
  },
  firstStep: 'change_plan',
  steps: {
    change_plan: {
      chunkSize: (limits) => limits.batchSize,
      run: (rows, context) =>
        sendInBatches(rows, context, 'change_plan', {
          key: (row) => row.request.carrierRatePlan,
          send: (batch) =>
            context.client.changePlan(
              batch.map(deviceIdsOf),
              batch[0].request.carrierRatePlan,
              callContext(batch, context),
            ),
        }),
      reconcile: reconcileAsync('change_plan'),
    },
    confirm: confirmStep(['change_plan']),
  },
};

const identifierRequest = z
  .object({
    newIccid: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        const issue = value === undefined ? undefined : checkIccid(value, 'newIccid').issue;
        if (issue) ctx.addIssue({ code: 'custom', message: issue.message });
      }),
    newImei: z
      .string()
      .trim()
      .regex(/^\d{15}$/, 'newImei is 15 digits')
      .optional(),
  })
  .refine((request) => request.newIccid || request.newImei, { message: 'Give newIccid or newImei' });
type IdentifierRequest = z.infer<typeof identifierRequest>;

/** Which identifiers a swap changes, and how Verizon names the old device and the new (`change4gOption`). */
export function identifierChange(row: Pick<WorkRow<IdentifierRequest>, 'iccid' | 'imei' | 'request'>): {
  option: Change4gOption;
  from: DeviceId[];
  to: DeviceId[];
} {
  const newIccid = row.request.newIccid && checkIccid(row.request.newIccid).value;
  const { newImei } = row.request;
  const oldIccid = { kind: 'iccid', id: row.iccid! };
  if (newIccid && newImei) {
    return {
      option: 'ChangeIMEIandICCID',
      from: [oldIccid, ...(row.imei ? [{ kind: 'imei', id: row.imei }] : [])],
      to: [
        { kind: 'iccid', id: newIccid },
        { kind: 'imei', id: newImei },
      ],
    };
  }
  if (newIccid) return { option: 'ChangeICCID', from: [oldIccid], to: [{ kind: 'iccid', id: newIccid }] };
  // A new device for the same SIM: old and new are named by the same kind, IMEI.
  return {
    option: 'ChangeIMEI',
    from: [{ kind: 'imei', id: row.imei! }],
    to: [{ kind: 'imei', id: newImei! }],
  };
}

export const thingSpaceIdentifierChange: Flow<
  ThingSpaceClient,
  IdentifierRequest,
  'change_identifier' | 'confirm'
> = {
  requestSchema: identifierRequest,
  writesToCarrier: true,
  // A SIM swap names the line as it is known to the operator: by its EID or its MSISDN too (original §3.3).
  lineKeys: ['eid', 'msisdn'],
  checkRow(request, device) {
    // Documented: the device must be active (with an MDN) for its identifier to change.
    if (device.carrierStatus?.toLowerCase() !== 'active') {
      return {
        code: 'CARRIER_RULE',
        message: `ThingSpace changes identifiers of active lines only; this line is "${device.carrierStatus ?? 'not on the account'}"`,
      };
    }
    if (request.newImei && !request.newIccid && !device.imei) {
      return {
        field: 'newImei',
        code: 'REQUIRED',
        message:
          'A device swap (ChangeIMEI) names the old device by its IMEI, and the inventory has none for this line',
      };
    }
    return undefined;
  },
  firstStep: 'change_identifier',
  steps: {
    change_identifier: {
      chunkSize: perLineChunk,
      // One line per request: the API swaps the identifiers of one device.
      run: (rows, context) =>
        forEachRow(
          rows,
          context.account.limits.maxConcurrent,
          async (row): Promise<RowOutcome<'confirm'>> => {
            await context.client.ensureCallback(callContext(null, context));
            const requestId = await context.client.changeIdentifier(
              identifierChange(row),
              callContext(row, context),
            );
            await context.recordRequest([row], requestId);
            return waitAgain(context, {
              carrierRequestId: requestId,
              result: { action: 'change_identifier' },
            });
          },
        ),
      reconcile: reconcileAsync('change_identifier'),
    },
    confirm: confirmStep(['change_identifier']),
  },
};
