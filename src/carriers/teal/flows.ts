import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isCarrierError } from '../../core/carrier-error.ts';
import type {
  CarrierLimits,
  DevicePatch,
  Flow,
  RowOutcome,
  Step,
  StepContext,
  WorkRow,
} from '../../core/flow.ts';
import { outcomeFromError } from '../../core/outcomes.ts';
import { rowRetryDelay } from '../../core/retry-delay.ts';
import { isOperationFinished, TEAL_MAX_ENTRIES, type TealClient, type TealWrite } from './client.ts';
import { isTealState, normaliseTealState, type TealTarget, tealStates, tealTargets } from './statuses.ts';

type Context = StepContext<TealClient>;
type WriteAction = TealWrite['action'];

/** Every row of a Teal flow, whichever change type: the confirm step serves both. */
type TealRequest = { targetStatus?: TealTarget; carrierRatePlan?: string };
type TealStep = Step<TealClient, TealRequest, 'confirm'>;
type TealOutcome = RowOutcome<'confirm'>;

/**
 * The `requestId` of a batch: the same rows at the same step always get the same one, so a write
 * re-sent after an unclear failure is recognised by Teal instead of applied twice.
 */
const batchRequestId = (action: WriteAction, rows: WorkRow<unknown>[]): string =>
  `bc-${createHash('sha256')
    .update(
      `${action}:${rows
        .map((row) => row.id)
        .sort()
        .join(',')}`,
    )
    .digest('hex')
    .slice(0, 40)}`;

const isOperationLink = (carrierRequestId: string) => /^https?:\/\//i.test(carrierRequestId);

const byRowNumber = <T>(rows: WorkRow<T>[]) => [...rows].sort((a, b) => a.rowNumber - b.rowNumber);

const confirmAt = (context: Context) => Date.now() + context.account.limits.checkIntervalMs;

const waitForResult = (
  context: Context,
  extra: { carrierRequestId?: string; requestId?: string } = {},
): TealOutcome => ({
  kind: 'next',
  step: 'confirm',
  waitUntil: confirmAt(context),
  ...(extra.carrierRequestId ? { carrierRequestId: extra.carrierRequestId } : {}),
  ...(extra.requestId ? { result: { requestId: extra.requestId } } : {}),
});

const entriesOf = (action: WriteAction, rows: WorkRow<TealRequest>[]): TealWrite =>
  action === 'assign_plan'
    ? { action, entries: rows.map((row) => ({ eid: row.eid!, planUuid: row.request.carrierRatePlan! })) }
    : { action, entries: rows.map((row) => row.eid!) };

/**
 * Rows of one batch that may have reached Teal share one retry delay (the longest the engine's backoff
 * could draw), so that they are reconciled together, as the batch their requestId stands for.
 */
const keepTogether = (outcome: TealOutcome, batch: WorkRow<TealRequest>[]): TealOutcome => {
  if (outcome.kind !== 'retry' || !outcome.ambiguous) return outcome;
  const longest = rowRetryDelay(Math.max(...batch.map((row) => row.attempts)), () => 1);
  return { ...outcome, retryAfterMs: Math.max(outcome.retryAfterMs ?? 0, longest) };
};

/**
 * One POST for the batch under `requestId`, saved on the rows first: after a crash or an unclear
 * failure the batch goes out again under the same one. The operation link is saved as soon as Teal
 * answers, and the rows wait for the operation's result. `splitRequestId` is for a part of a batch
 * being reconciled alone: Teal refuses the batch's requestId with another body (409), so the part
 * goes out under its own; Teal's changes set a state, so a line asked twice comes to no harm.
 */
async function send(
  action: WriteAction,
  batch: WorkRow<TealRequest>[],
  requestId: string,
  context: Context,
  splitRequestId?: string,
): Promise<TealOutcome[]> {
  await context.recordRequest(batch, requestId);
  try {
    const link = await context.client.write(entriesOf(action, batch), requestId, {
      audit: context.auditFor(batch),
      signal: context.signal,
    });
    await context.recordRequest(batch, link);
    return batch.map(() => waitForResult(context, { carrierRequestId: link, requestId }));
  } catch (error) {
    const split = splitRequestId && splitRequestId !== requestId;
    if (split && isCarrierError(error) && error.httpStatus === 409)
      return send(action, batch, splitRequestId, context);
    const outcome = keepTogether(outcomeFromError(error), batch);
    return batch.map(() => outcome);
  }
}

/** Runs `work` per group of rows and puts the outcomes back in the rows' order. */
async function inGroups<T>(
  rows: WorkRow<TealRequest>[],
  keyOf: (row: WorkRow<TealRequest>) => T,
  work: (key: T, group: WorkRow<TealRequest>[]) => Promise<TealOutcome[]>,
): Promise<TealOutcome[]> {
  const outcomes = new Map<string, TealOutcome>();
  for (const [key, group] of Map.groupBy(byRowNumber(rows), keyOf)) {
    const results = await work(key, group);
    for (const [index, row] of group.entries()) outcomes.set(row.id, results[index]);
  }
  return rows.map((row) => outcomes.get(row.id)!);
}

/** A write step: the chunk is one batch, at most 100 EIDs in one POST. */
function writeStep(action: WriteAction): TealStep {
  return {
    chunkSize: (limits: CarrierLimits) => Math.max(1, Math.min(limits.batchSize, TEAL_MAX_ENTRIES)),
    async run(rows, context) {
      const batch = byRowNumber(rows);
      const outcomes = await send(action, batch, batchRequestId(action, batch), context);
      return rows.map((row) => outcomes[batch.indexOf(row)]);
    },
    /**
     * A row holding an operation link was accepted: it waits for the result. One holding its batch's
     * requestId may have been: the batch is sent again under that requestId, which Teal answers with
     * the operation it already started, if any. A row holding neither was never sent.
     */
    reconcile: (rows, context) =>
      inGroups(
        rows,
        (row) => row.carrierRequestId ?? '',
        async (id, group) => {
          if (id === '') return group.map((): TealOutcome => ({ kind: 'resend' }));
          if (isOperationLink(id)) return group.map(() => waitForResult(context));
          return send(action, group, id, context, batchRequestId(action, group));
        },
      ),
  };
}

/** What a confirmed change does to the inventory and the row's result. */
type Applied = (row: WorkRow<TealRequest>) => { device: DevicePatch; result: Record<string, unknown> };

/**
 * Reads each operation of the chunk once (its link is the rows' `carrierRequestId`) and settles each
 * row by its EID's entry. Rows whose operation is still running wait another `checkIntervalMs`, up to
 * `maxWaitMs` (then WAIT_TIMEOUT). Reading is harmless, so a row found here after a crash reads again.
 */
function confirmStep(applied: Applied): TealStep {
  const run: TealStep['run'] = (rows, context) =>
    inGroups(
      rows,
      (row) => row.carrierRequestId ?? '',
      async (link, group) => {
        try {
          const operation = await context.client.operation(link, {
            audit: context.auditFor(group),
            signal: context.signal,
          });
          if (!isOperationFinished(operation)) return group.map(() => waitForResult(context));
          return group.map((row): TealOutcome => {
            const entry = operation.entries.find((candidate) => candidate.eid === row.eid);
            if (!entry) {
              return {
                kind: 'failed',
                error: {
                  code: 'RESULT_MISSING',
                  message: `Teal's operation ${link} finished (${operation.status ?? 'no status'}) without a result for EID ${row.eid}; check the line at Teal`,
                },
              };
            }
            if (!entry.success) {
              return {
                kind: 'failed',
                error: {
                  code: 'CARRIER_REJECTED',
                  message: entry.errorMessage || 'Teal did not apply the change (no message)',
                },
              };
            }
            return { kind: 'succeeded', ...applied(row) };
          });
        } catch (error) {
          const outcome = outcomeFromError(error);
          return group.map(() => outcome);
        }
      },
    );
  return { chunkSize: () => 500, run, reconcile: run };
}

const statusRequest = z.object({
  targetStatus: z.enum(Object.keys(tealTargets) as [TealTarget]),
});
type StatusRequest = z.infer<typeof statusRequest>;

/**
 * `active` goes to the enable endpoint and `suspended` to the disable one (the original always called
 * disable, original §7 B10). Both are confirmed from the operation's result.
 */
export const tealStatusUpdate: Flow<TealClient, StatusRequest, 'enable' | 'disable' | 'confirm'> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  checkRow(_request, device) {
    if (device.carrierStatus && !isTealState(device.carrierStatus)) {
      return {
        field: 'targetStatus',
        code: 'INVALID_TRANSITION',
        message: `Teal changes lines that are ${tealStates.join(', ')}; this line is "${device.carrierStatus}"`,
      };
    }
    return undefined;
  },
  firstStep: (request) => tealTargets[request.targetStatus].endpoint,
  steps: {
    enable: writeStep('enable'),
    disable: writeStep('disable'),
    confirm: confirmStep((row) => {
      const { state } = tealTargets[row.request.targetStatus!];
      return { device: { status: normaliseTealState(state), carrierStatus: state }, result: { state } };
    }),
  },
};

const planRequest = z.object({
  carrierRatePlan: z.guid('carrierRatePlan is a Teal plan UUID'),
});
type PlanRequest = z.infer<typeof planRequest>;

/** Assigns a plan (by UUID) to each eSIM, up to 100 a request, confirmed from the operation's result. */
export const tealRatePlanChange: Flow<TealClient, PlanRequest, 'assign_plan' | 'confirm'> = {
  requestSchema: planRequest,
  writesToCarrier: true,
  firstStep: 'assign_plan',
  steps: {
    assign_plan: writeStep('assign_plan'),
    confirm: confirmStep((row) => {
      const plan = row.request.carrierRatePlan!;
      return { device: { carrierRatePlan: plan }, result: { carrierRatePlan: plan } };
    }),
  },
};
