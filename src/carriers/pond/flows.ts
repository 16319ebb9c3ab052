import { z } from 'zod';
import { type ErrorCode, errorCodeSchema, errorCodes } from '../../core/errors.ts';
import type { Flow, RowError, RowOutcome, Step, StepContext, WorkRow } from '../../core/flow.ts';
import { forEachRow, outcomeFromError } from '../../core/outcomes.ts';
import { callContext, lanes, perLineChunk, perLineStep } from '../per-line.ts';
import { activePackages, type PondClient, type PondPackage } from './client.ts';
import { normalisePondStatus, pondStateFor, pondTargets } from './statuses.ts';

type Context = StepContext<PondClient>;

/** The simulator's codes (docs/carriers/pond.md) that mean more than "rejected". */
const pondRejectionCodes: Record<string, ErrorCode> = {
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  UNKNOWN_PACKAGE_TYPE: 'UNKNOWN_RATE_PLAN',
  PACKAGE_NOT_FOUND: 'PACKAGE_NOT_FOUND',
};

const mapRejection = (error: RowError): RowError => ({
  ...error,
  code: (error.carrierCode && pondRejectionCodes[error.carrierCode]) || error.code,
});

const statePatch = (state: string) => ({ status: normalisePondStatus(state), carrierStatus: state });

const statusRequest = z.object({
  targetStatus: z.enum(Object.keys(pondTargets) as [keyof typeof pondTargets]),
});
type StatusRequest = z.infer<typeof statusRequest>;

/** Enables (`active`) or disables (`suspended`) all of a line's services: one call per line. */
export const pondStatusUpdate: Flow<PondClient, StatusRequest, 'update_status'> = {
  requestSchema: statusRequest,
  writesToCarrier: true,
  firstStep: 'update_status',
  steps: {
    update_status: perLineStep<PondClient, StatusRequest, { status: string }>({
      send: async (row, context) => {
        const enabled = pondTargets[row.request.targetStatus];
        const answer = await context.client.setDeviceStatus(row.iccid!, enabled, callContext(row, context));
        return { kind: 'succeeded', device: statePatch(answer.status) };
      },
      read: (row, context) => context.client.getDeviceStatus(row.iccid!, callContext(row, context)),
      applied: (row, line) =>
        line.status.toUpperCase() === pondStateFor(pondTargets[row.request.targetStatus])
          ? { kind: 'succeeded', device: statePatch(line.status) }
          : undefined,
      mapRejection,
    }),
  },
};

const planRequest = z.object({ carrierRatePlan: z.string().trim().min(1) });
type PlanRequest = z.infer<typeof planRequest>;

/** What the rows of a package change carry from step to step (`result`). */
const progressSchema = z.object({
  packageId: z.string(),
  failure: z
    .object({ code: errorCodeSchema, message: z.string(), carrierCode: z.string().optional() })
    .optional(),
});
const progressOf = (row: WorkRow<PlanRequest>) => progressSchema.parse(row.result ?? {});

type PlanStepName = 'add_package' | 'activate_package' | 'terminate_old' | 'rollback';
type PlanStep = Step<PondClient, PlanRequest, PlanStepName>;
type PlanOutcome = RowOutcome<PlanStepName>;

const perLine =
  (work: (row: WorkRow<PlanRequest>, context: Context) => Promise<PlanOutcome>): PlanStep['run'] =>
  (rows, context) =>
    forEachRow(rows, lanes(context), (row) => work(row, context), mapRejection);

const toActivate = (packageId: string): PlanOutcome => ({
  kind: 'next',
  step: 'activate_package',
  carrierRequestId: packageId,
  result: { packageId },
});

/**
 * A write of the change failed (after the HTTP client's own retries): the line must not be left with
 * two packages or none, so the row goes to `rollback`, which reads the line and repairs it. Only a
 * shutdown (the row is reconciled later) and refused credentials (nothing more can be called) stop here.
 */
function rollBackAfter(error: unknown, what: string, context: Context): PlanOutcome {
  const outcome = outcomeFromError(error, mapRejection);
  const refused = outcome.kind === 'failed' && outcome.error.code === errorCodes.AUTH_FAILED;
  if (context.signal.aborted || refused || !('error' in outcome)) return outcome;
  const cause = outcome.error;
  return {
    kind: 'next',
    step: 'rollback',
    result: { failure: { ...cause, message: `${what} failed: ${cause.message}` } },
  };
}

const describe = (found: PondPackage) => `package ${found.packageId} (${found.packageTypeId})`;

/** The end of a change that was undone: the row says which package the line kept. */
function rolledBack(packageId: string, failure: RowError, kept: PondPackage[]): PlanOutcome {
  const newest = kept.at(-1);
  const state =
    kept.length === 0
      ? 'the line has no active package, as before'
      : `${kept.map(describe).join(', ')} ${kept.length === 1 ? 'stays the line’s only active package' : 'stay active'}`;
  return {
    kind: 'failed',
    error: {
      code: 'PACKAGE_CHANGE_ROLLED_BACK',
      message: `${failure.message}. Rolled back: the new package ${packageId} is terminated and ${state}`,
      ...(failure.carrierCode ? { carrierCode: failure.carrierCode } : {}),
    },
    result: { activePackageId: newest?.packageId ?? null, rolledBack: true },
    device: { carrierRatePlan: newest?.packageTypeId ?? null },
  };
}

const completed = (added: PondPackage, terminatedPackageIds: string[]): PlanOutcome => ({
  kind: 'succeeded',
  result: { activePackageId: added.packageId, rolledBack: false, terminatedPackageIds },
  device: { carrierRatePlan: added.packageTypeId },
});

/**
 * add_package: a line already holding just one ACTIVE package of the plan needs nothing. Otherwise a
 * PENDING package is added and its id saved on the row at once, so that a crash from here on follows it.
 */
const addPackage: PlanStep = {
  chunkSize: perLineChunk,
  run: perLine(async (row, context) => {
    const call = callContext(row, context);
    const plan = row.request.carrierRatePlan;
    const active = activePackages(await context.client.listPackages(row.iccid!, call));
    if (active.length === 1 && active[0].packageTypeId === plan) {
      return {
        kind: 'succeeded',
        result: { activePackageId: active[0].packageId, unchanged: true },
        device: { carrierRatePlan: plan },
      };
    }
    const added = await context.client.addPackage(row.iccid!, plan, call);
    await context.recordRequest([row], added.packageId);
    return toActivate(added.packageId);
  }),
  /**
   * The add may have reached POND without an answer: a PENDING package of the plan on the line is
   * taken as ours (only this flow leaves packages PENDING, and only until its next step), else it
   * is sent again.
   */
  reconcile: perLine(async (row, context) => {
    if (row.carrierRequestId) return toActivate(row.carrierRequestId);
    const packages = await context.client.listPackages(row.iccid!, callContext(row, context));
    const pending = packages.findLast(
      (found) => found.status === 'PENDING' && found.packageTypeId === row.request.carrierRatePlan,
    );
    return pending ? toActivate(pending.packageId) : { kind: 'resend' };
  }),
};

/** activate_package: the old packages stay ACTIVE meanwhile, so the line is never without one. */
const activatePackage: PlanStep = {
  chunkSize: perLineChunk,
  run: perLine(async (row, context) => {
    const { packageId } = progressOf(row);
    try {
      await context.client.setPackageStatus(packageId, 'ACTIVE', callContext(row, context));
    } catch (error) {
      return rollBackAfter(error, `Activating package ${packageId}`, context);
    }
    return { kind: 'next', step: 'terminate_old' };
  }),
};

/** terminate_old: once the new package is ACTIVE, every other ACTIVE package is terminated. */
const terminateOld: PlanStep = {
  chunkSize: perLineChunk,
  run: perLine(async (row, context) => {
    const { packageId } = progressOf(row);
    const call = callContext(row, context);
    const packages = await context.client.listPackages(row.iccid!, call);
    const added = packages.find((found) => found.packageId === packageId);
    if (added?.status !== 'ACTIVE') {
      return {
        kind: 'next',
        step: 'rollback',
        result: {
          failure: {
            code: 'PACKAGE_NOT_ACTIVE',
            message: `The new package ${packageId} is ${added?.status ?? 'no longer on the line'} instead of ACTIVE`,
          },
        },
      };
    }
    const old = activePackages(packages).filter((found) => found.packageId !== packageId);
    for (const found of old) {
      try {
        await context.client.setPackageStatus(found.packageId, 'TERMINATED', call);
      } catch (error) {
        return rollBackAfter(error, `Terminating the previous ${describe(found)}`, context);
      }
    }
    return completed(
      added,
      old.map((found) => found.packageId),
    );
  }),
};

/**
 * rollback: reads the line and leaves it as it was. If the new package turns out to be the only
 * ACTIVE one (the failed call had taken effect), the change is complete after all. Otherwise the new
 * package is terminated and the old ones stay. A failure here retries this step, which reads again.
 */
const rollback: PlanStep = {
  chunkSize: perLineChunk,
  run: perLine(async (row, context) => {
    const { packageId, failure } = progressSchema.required().parse(row.result);
    const call = callContext(row, context);
    const packages = await context.client.listPackages(row.iccid!, call);
    const added = packages.find((found) => found.packageId === packageId);
    const others = activePackages(packages).filter((found) => found.packageId !== packageId);
    if (added?.status === 'ACTIVE' && others.length === 0) return completed(added, []);
    if (added && added.status !== 'TERMINATED')
      await context.client.setPackageStatus(packageId, 'TERMINATED', call);
    return rolledBack(packageId, failure, others);
  }),
};

/**
 * A carrier rate plan is a package on POND: add the new one, activate it, then terminate the ones
 * active before (carrier-apis §4). Each is its own step, so a crash between them resumes where it was;
 * a failed write rolls back, and the row ends saying which package the line has.
 */
export const pondRatePlanChange: Flow<PondClient, PlanRequest, PlanStepName> = {
  requestSchema: planRequest,
  writesToCarrier: true,
  firstStep: 'add_package',
  steps: {
    add_package: addPackage,
    activate_package: activatePackage,
    terminate_old: terminateOld,
    rollback,
  },
};
