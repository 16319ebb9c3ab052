import type { RowOutcome, Step, StepContext, WorkRow } from '../../core/flow.ts';
import { forEachRow } from '../../core/outcomes.ts';
import { callContext, lanes, nextCheck, perLineChunk, perLineStep } from '../per-line.ts';
import type { JasperClient } from './client.ts';
import { mapJasperRejection } from './errors.ts';

/** Control Center counts data in bytes; allowances are in MB of 1,048,576 bytes. */
const BYTES_PER_MB = 1_048_576;

type Plans = JasperClient['settings']['deactivationRatePlans'];

/**
 * The cheapest plan whose allowance covers what the line used this cycle, else the largest (the last):
 * the original's choice before a deactivation (original §5.1.1 a).
 */
export function cheapestFittingPlan(plans: Plans, usedBytes: number): string | undefined {
  const fits = plans.find((plan) => plan.dataMb === null || plan.dataMb * BYTES_PER_MB >= usedBytes);
  return (fits ?? plans.at(-1))?.ratePlan;
}

interface PlanChoice {
  ratePlan: string;
  current: string | null;
  usedBytes: number;
}

/** Reads the line's usage and picks its plan; undefined when the account lists no plans. */
async function choosePlan(
  row: WorkRow<unknown>,
  context: StepContext<JasperClient>,
): Promise<PlanChoice | undefined> {
  const usage = await context.client.cycleUsage(row.iccid!, callContext(row, context));
  const ratePlan = cheapestFittingPlan(context.client.settings.deactivationRatePlans, usage.ctdDataUsage);
  return ratePlan === undefined
    ? undefined
    : { ratePlan, current: usage.ratePlan || null, usedBytes: usage.ctdDataUsage };
}

const moved = (choice: PlanChoice, written: boolean): RowOutcome<'update_status'> => ({
  kind: 'next',
  step: 'update_status',
  result: {
    deactivationRatePlan: choice.ratePlan,
    previousRatePlan: choice.current,
    cycleDataUsageBytes: choice.usedBytes,
    deactivationRatePlanWritten: written,
  },
  device: { carrierRatePlan: choice.ratePlan },
});

// Intake refuses the option on an account without plans; an account emptied since fails the row here.
const noPlans: RowOutcome<never> = {
  kind: 'failed',
  error: {
    code: 'INVALID_SETTINGS',
    message: 'The account lists no settings.deactivationRatePlans to choose from; the status was not changed',
  },
};

/**
 * Before a deactivation: the line moves to the cheapest plan that covers its cycle's usage, then its
 * status changes; if the plan change is refused, the status is not sent. A line already on that plan
 * is not written again; after a crash the usage is read again and the plan compared.
 */
export const cheapestPlanStep = perLineStep<JasperClient, unknown, PlanChoice | undefined, 'update_status'>({
  send: async (row, context) => {
    const choice = await choosePlan(row, context);
    if (choice === undefined) return noPlans;
    if (choice.current === choice.ratePlan) return moved(choice, false);
    await context.client.editDevice(row.iccid!, { ratePlan: choice.ratePlan }, callContext(row, context));
    return moved(choice, true);
  },
  read: choosePlan,
  applied: (_row, choice) => {
    if (choice === undefined) return noPlans;
    return choice.current === choice.ratePlan ? moved(choice, true) : undefined;
  },
  mapRejection: mapJasperRejection,
});

/**
 * After an activation: the line's MSISDN, read back so that the inventory and billing have the number
 * Control Center gave it (the original billed the line under its ICCID). A line without one yet is
 * read again at the account's check interval, up to its maximum wait. It only reads, so a row found
 * in progress after a crash simply reads again (no `reconcile`).
 */
export const readMsisdnStep: Step<JasperClient, unknown, 'read_msisdn'> = {
  chunkSize: perLineChunk,
  run: (rows, context) =>
    forEachRow(
      rows,
      lanes(context),
      async (row): Promise<RowOutcome<'read_msisdn'>> => {
        const device = await context.client.getDevice(row.iccid!, callContext(row, context));
        const msisdn = device.msisdn || null;
        return msisdn
          ? { kind: 'succeeded', result: { msisdn }, device: { msisdn } }
          : { kind: 'next', step: 'read_msisdn', waitUntil: nextCheck(context) };
      },
      mapJasperRejection,
    ),
};
