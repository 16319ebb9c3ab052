import { z } from 'zod';
import type { DevicePatch, Flow, RowError, RowOutcome, Step, StepContext, WorkRow } from '../../core/flow.ts';
import { checkIccid } from '../../core/identifiers.ts';
import { forEachRow, outcomeFromError } from '../../core/outcomes.ts';
import { callContext, perLineChunk } from '../per-line.ts';
import {
  type DeviceId,
  isRuleCode,
  lineFromIds,
  type RequestStatus,
  type ThingSpaceClient,
} from './client.ts';
import {
  finalStateOf,
  firstStepFor,
  normaliseThingSpaceState,
  type ThingSpaceTarget,
  thingSpaceTargets,
} from './statuses.ts';

type Context = StepContext<ThingSpaceClient>;

const statusRequest = z.object({
  targetStatus: z.enum(thingSpaceTargets),
  reasonCode: z.string().trim().min(1).max(10).optional(),
  servicePlan: z.string().trim().min(1).optional(),
  mdnZipCode: z
    .string()
    .regex(/^\d{5}$/, 'mdnZipCode is 5 digits')
    .optional(),
});
type StatusRequest = z.infer<typeof statusRequest>;

/**
 * The fields any ThingSpace row may carry: each flow has its own request, and the steps they share
 * (confirm, reconcile) read what their action needs.
 */
type ThingSpaceRequest = Partial<StatusRequest> & {
  carrierRatePlan?: string;
  newIccid?: string;
  newImei?: string;
};
type AsyncAction = 'activate' | 'restore' | 'suspend' | 'deactivate' | 'change_plan' | 'change_identifier';

const deviceIdsOf = (row: WorkRow<unknown>): DeviceId[] => [
  { kind: 'iccid', id: row.iccid! },
  ...(row.imei ? [{ kind: 'imei', id: row.imei }] : []),
];

/** Splits rows into carrier requests: one per distinct key (same plan, zip, reason), at most `size` each. */
function batches<T>(rows: WorkRow<T>[], size: number, key: (row: WorkRow<T>) => string): WorkRow<T>[][] {
  const groups = new Map<string, WorkRow<T>[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
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
  await context.client.ensureCallback(callContext(null, context)).catch(() => {
    // Without a callback the results are polled; registering is retried by the next request.
  });
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

/** After a crash: follow the saved request, or read the line to learn whether the action went out. */
/**
 * After a crash: follow the saved request; else watch the line, since an accepted request may not have
 * been applied yet. A line that never moves is sent again after a grace (see the confirm step).
 */
function reconcileAsync(action: AsyncAction) {
  return (rows: WorkRow<ThingSpaceRequest>[], context: Context) =>
    forEachRow(rows, context.account.limits.maxConcurrent, async (row): Promise<RowOutcome<'confirm'>> => {
      if (row.carrierRequestId) return waitAgain(context, { result: { action } });
      if (await isApplied(row, action, context))
        return confirmed({ ...row, result: { ...row.result, action } }, context);
      return waitAgain(context, { result: { action, unsentSince: Date.now() } });
    });
}

/** Whether the carrier shows the action done: the line's state or plan, or the swapped identifier. */
async function isApplied(
  row: WorkRow<ThingSpaceRequest>,
  action: AsyncAction,
  context: Context,
): Promise<boolean> {
  const read = (iccid: string) => context.client.getDevice(iccid, callContext(row, context));
  if (action === 'change_identifier') {
    const newIccid = row.request.newIccid && checkIccid(row.request.newIccid).value;
    if (newIccid) return (await read(newIccid)) !== undefined;
    return (await read(row.iccid!))?.imei === row.request.newImei;
  }
  const line = await read(row.iccid!);
  if (!line) return false;
  return action === 'change_plan'
    ? line.servicePlan === row.request.carrierRatePlan
    : line.state === finalStateOf[action];
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

/**
 * Waits for the carrier's result: a callback already stored on the row, else the request's status,
 * else (after a crash, with no request id) the line's state. Rows still pending wait again, up to the
 * account's maximum wait (then WAIT_TIMEOUT).
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
          statuses.set(requestId, context.client.requestStatus(requestId, callContext(carried, context)));
        }
        return statuses.get(requestId)!;
      };
      const callbacks = await context.carrierResults(rows);
      return forEachRow(
        rows,
        context.account.limits.maxConcurrent,
        async (row): Promise<RowOutcome<TAction | 'confirm'>> => {
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
          if (row.carrierRequestId) {
            const status = await statusOf(row.carrierRequestId);
            const device = status.subrequests?.find((sub) => sub.ids.id === row.iccid);
            const state = device?.status ?? status.status;
            if (state === 'Pending') return waitAgain(context);
            if (state !== 'Success') return { kind: 'failed', error: faultToError(device?.faultResponse) };
            // The status can say done before the callback that carries the MSISDN and IP arrives: give it
            // one more interval before reading the line back.
            if (context.client.settings.callbackUrl && !row.result?.doneWithoutCallback) {
              return waitAgain(context, { result: { ...row.result, doneWithoutCallback: true } });
            }
            return confirmed(row, context);
          }
          const action = actionOf(row);
          if (await isApplied(row, action, context)) return confirmed(row, context);
          // Reconciled without a request id and the line has not moved: the request most likely never
          // left, but the carrier may apply accepted requests late. Send again only after a grace.
          const unsentSince = row.result?.unsentSince;
          if (
            typeof unsentSince === 'number' &&
            Date.now() - unsentSince > 2 * context.account.limits.checkIntervalMs
          ) {
            const resendTo = actions.find((candidate) => candidate === action);
            if (resendTo) return { kind: 'next', step: resendTo };
          }
          return waitAgain(context);
        },
      );
    },
  };
}

const planOf = (row: WorkRow<ThingSpaceRequest>, context: Context) =>
  row.request.servicePlan ?? context.client.settings.defaultServicePlan ?? '';
const zipOf = (row: WorkRow<ThingSpaceRequest>, context: Context) =>
  row.request.mdnZipCode ?? context.client.settings.defaultMdnZipCode ?? '';

const activating = (target: ThingSpaceTarget) => target === 'active' || target === 'pending_activation';

type StatusStep = 'already' | 'add' | 'activate' | 'restore' | 'suspend' | 'deactivate' | 'confirm';

export const thingSpaceStatusUpdate: Flow<ThingSpaceClient, StatusRequest, StatusStep> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(request, device, settings) {
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
          key: (row) => `${planOf(row, context)}|${zipOf(row, context)}`,
          send: (batch) =>
            context.client.activate(
              {
                devices: batch.map(deviceIdsOf),
                servicePlan: planOf(batch[0], context),
                mdnZipCode: zipOf(batch[0], context),
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
          key: (row) => row.request.reasonCode ?? 'FF',
          send: (batch) =>
            context.client.act(
              'deactivate',
              batch.map(deviceIdsOf),
              // FF: general administration, the only documented reason (carrier-apis §1.5).
              { reasonCode: batch[0].request.reasonCode ?? 'FF' },
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

export const thingSpaceIdentifierChange: Flow<
  ThingSpaceClient,
  IdentifierRequest,
  'change_identifier' | 'confirm'
> = {
  requestSchema: identifierRequest,
  writesToCarrier: true,
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
            const to: DeviceId[] = [
              ...(row.request.newIccid
                ? [{ kind: 'iccid', id: checkIccid(row.request.newIccid).value! }]
                : []),
              ...(row.request.newImei ? [{ kind: 'imei', id: row.request.newImei }] : []),
            ];
            await context.client.ensureCallback(callContext(null, context)).catch(() => {});
            const requestId = await context.client.changeIdentifier(
              [{ kind: 'iccid', id: row.iccid! }],
              to,
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
