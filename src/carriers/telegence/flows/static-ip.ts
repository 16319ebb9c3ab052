import { isCarrierError } from '../../../core/carrier-error.ts';
import type { ErrorCode } from '../../../core/errors.ts';
import type { RowOutcome, Step, StepContext, WorkRow } from '../../../core/flow.ts';

/** The static IP phase's steps, after an activation. */
export type StaticIpStep = 'reserve_ip' | 'confirm_ip';
type IpOutcome = RowOutcome<'confirm_ip'>;

import { outcomeFromError } from '../../../core/outcomes.ts';
import { callContext, nextCheck } from '../../per-line.ts';
import type { TelegenceClient, TelegenceIpStatus } from '../client.ts';
import { mapTelegenceRejection } from './line-changes.ts';

/** The fields of an activation row the static IP phase reads. */
interface StaticIpRequest {
  billingAccountNumber: string;
  pdpName?: string;
  apn?: string;
}
type Row = WorkRow<StaticIpRequest>;
type Context = StepContext<TelegenceClient>;

/** AT&T provisions at most 10 lines per request (carrier-apis §3.4). */
export const TELEGENCE_MAX_IP_PROVISIONS = 10;

const msisdnOf = (row: Row) => String(row.result?.msisdn ?? row.msisdn);
const pdpOf = (row: Row, context: Context) => row.request.pdpName ?? context.client.settings.defaultPdpName;

const ipFailure = (code: ErrorCode, message: string): RowOutcome<never> => ({
  kind: 'failed',
  error: { code, message: `The line is active, but its static IP was not provisioned: ${message}` },
});

/** A carrier error on an IP call: transient ones are retried, refusals fail the row with STATIC_IP_FAILED. */
function ipCallOutcome(error: unknown, ambiguous: boolean): IpOutcome {
  const outcome = outcomeFromError(error, mapTelegenceRejection);
  if (outcome.kind === 'retry') return { ...outcome, ambiguous: ambiguous && outcome.ambiguous };
  if (outcome.kind === 'failed' && outcome.error.code !== 'AUTH_FAILED') {
    return ipFailure('STATIC_IP_FAILED', outcome.error.message);
  }
  return outcome;
}

/** Reserve addresses for up to 10 lines of one PDP and billing account, then submit their provisioning. */
async function provisionGroup(rows: Row[], context: Context): Promise<IpOutcome[]> {
  const pdpName = pdpOf(rows[0], context);
  let addresses: string[];
  try {
    addresses = await context.client.reserveIps(pdpName, rows.length, callContext(rows, context));
  } catch (error) {
    // A reservation sent twice only holds spare addresses; it is never ambiguous for the line.
    return rows.map(() => ipCallOutcome(error, false));
  }
  const served = rows.slice(0, addresses.length);
  const unserved: IpOutcome = ipFailure(
    'STATIC_IP_UNAVAILABLE',
    `AT&T had no free static IP address for PDP ${pdpName}`,
  );
  if (served.length === 0) return rows.map(() => unserved);
  let sent: IpOutcome;
  try {
    const effectiveDate = `${new Date().toISOString().slice(0, 10)}Z`;
    const batchId = await context.client.provisionIps(
      {
        pdpName,
        billingAccountNumber: rows[0].request.billingAccountNumber,
        subscriber: served.map((row, index) => ({
          subscriberNumber: msisdnOf(row),
          ipAddressRecord: { ipAddress: addresses[index] },
          lteIndicator: 'Y',
          defaultAPNIndicator: 'N',
          accessPointName: row.request.apn ?? context.client.settings.defaultApn,
          effectiveDate,
        })),
      },
      callContext(served, context),
    );
    await context.recordRequest(served, batchId);
    sent = {
      kind: 'next',
      step: 'confirm_ip',
      waitUntil: nextCheck(context),
      carrierRequestId: batchId,
    };
  } catch (error) {
    sent = ipCallOutcome(error, true);
  }
  return rows.map((_row, index) => (index < served.length ? sent : unserved));
}

/** The batch id saved on the row when AT&T answered the provisioning (it replaces the activation id). */
const submittedBatch = (row: Row): string | undefined =>
  row.carrierRequestId && row.carrierRequestId !== row.result?.activationId
    ? row.carrierRequestId
    : undefined;

const reserveIpStep: Step<TelegenceClient, StaticIpRequest, 'confirm_ip'> = {
  chunkSize: () => TELEGENCE_MAX_IP_PROVISIONS,
  async run(rows, context) {
    const outcomes = new Map<string, IpOutcome>();
    const groups = Map.groupBy(rows, (row) => `${pdpOf(row, context)}|${row.request.billingAccountNumber}`);
    for (const group of groups.values()) {
      const results = await provisionGroup(group, context);
      for (const [index, row] of group.entries()) outcomes.set(row.id, results[index]);
    }
    return rows.map((row) => outcomes.get(row.id)!);
  },
  /** After a crash: AT&T can be asked by subscriber number whether the line's provisioning was submitted. */
  async reconcile(rows, context) {
    const outcomes: IpOutcome[] = [];
    for (const row of rows) {
      const batchId = submittedBatch(row);
      if (batchId) {
        outcomes.push({ kind: 'next', step: 'confirm_ip', waitUntil: Date.now(), carrierRequestId: batchId });
        continue;
      }
      try {
        const entries = await context.client.ipStatus(
          { subscriberNumber: msisdnOf(row) },
          callContext(row, context),
        );
        const found = entries.find((entry) => entry.batchId)?.batchId;
        outcomes.push(
          found
            ? { kind: 'next', step: 'confirm_ip', waitUntil: Date.now(), carrierRequestId: found }
            : { kind: 'resend' },
        );
      } catch (error) {
        // AT&T knows no provisioning for the line: it was never submitted.
        const neverSubmitted = isCarrierError(error) && error.httpStatus === 404;
        outcomes.push(neverSubmitted ? { kind: 'resend' } : ipCallOutcome(error, false));
      }
    }
    return outcomes;
  },
};

const done = (entry: TelegenceIpStatus) =>
  /success/i.test(entry.profileCheck ?? '') &&
  /reserved/i.test(entry.ipReservation ?? '') &&
  /complete/i.test(entry.profileUpdate ?? '');

const refused = (entry: TelegenceIpStatus) =>
  [entry.profileCheck, entry.ipReservation, entry.profileUpdate].some((value) =>
    /fail|error|reject/i.test(value ?? ''),
  );

function ipOutcome(row: Row, entry: TelegenceIpStatus | undefined, context: Context): IpOutcome {
  if (!entry)
    return ipFailure('STATIC_IP_FAILED', `AT&T's batch ${row.carrierRequestId} does not list the line`);
  if (done(entry)) {
    const ipAddress = entry.ipAddressRecord?.ipAddress ?? null;
    return { kind: 'succeeded', result: { ipAddress }, device: { ipAddress } };
  }
  if (refused(entry)) return ipFailure('STATIC_IP_FAILED', entry.message ?? 'AT&T refused the provisioning');
  return { kind: 'next', step: 'confirm_ip', waitUntil: nextCheck(context) };
}

/** One status GET per batch (by the `batch-id` header); rows are matched by subscriber number. */
const confirmIpStep: Step<TelegenceClient, StaticIpRequest, 'confirm_ip'> = {
  chunkSize: () => 500,
  async run(rows, context) {
    const outcomes = new Map<string, IpOutcome>();
    for (const [batchId, batchRows] of Map.groupBy(rows, (row) => row.carrierRequestId ?? '')) {
      try {
        const entries = await context.client.ipStatus({ batchId }, callContext(batchRows, context));
        const bySubscriber = new Map(entries.map((entry) => [entry.subscriberNumber, entry]));
        for (const row of batchRows)
          outcomes.set(row.id, ipOutcome(row, bySubscriber.get(msisdnOf(row)), context));
      } catch (error) {
        for (const row of batchRows) outcomes.set(row.id, ipCallOutcome(error, false));
      }
    }
    return rows.map((row) => outcomes.get(row.id)!);
  },
};

export const staticIpSteps = { reserve_ip: reserveIpStep, confirm_ip: confirmIpStep };
