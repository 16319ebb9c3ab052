import type { z } from 'zod';
import type { AuditRecord } from './audit-record.ts';
import type { CarrierName, ChangeType } from './change-types.ts';
import type { ErrorCode } from './errors.ts';
import type { Site } from './site.ts';
import type { NormalisedStatus } from './statuses.ts';

/** Per-account limits (DESIGN §2.6): defaults come from the carrier, an account may override each. */
export interface CarrierLimits {
  /** null = no limit */
  requestsPerSecond: number | null;
  maxConcurrent: number;
  /** Lines per carrier request, where the carrier takes several. */
  batchSize: number;
  /** Attempts a row may make before it fails with RETRIES_EXHAUSTED. */
  retryBudget: number;
  requestTimeoutMs: number;
  /** How often a waiting row is re-checked, and how long it may wait in total. */
  checkIntervalMs: number;
  maxWaitMs: number;
}

/** A carrier account as the engine sees it: credentials decrypted, settings parsed. */
export interface CarrierAccount {
  id: string;
  tenantId: string;
  name: string;
  carrier: CarrierName;
  baseUrl: string;
  credentials: Record<string, unknown>;
  writeEnabled: boolean;
  settings: Record<string, unknown>;
  limits: CarrierLimits;
}

/** The inventory's view of a line, as flows need it. */
export interface DeviceRecord {
  id: string;
  carrierAccountId: string;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  status: NormalisedStatus;
  carrierStatus: string | null;
  carrierRatePlan: string | null;
  communicationPlan: string | null;
  billingCustomerId: string | null;
  billingServiceId: string | null;
  customerRatePlanId: string | null;
  customerPoolId: string | null;
  /** Epoch ms of the line's last data use, when known. */
  lastUsageAt: number | null;
  /** The tenant's site the line is at, if assigned. */
  siteId: string | null;
  archived: boolean;
}

/** What a successful carrier change does to the inventory record. */
export type DevicePatch = Partial<{
  status: NormalisedStatus;
  carrierStatus: string;
  carrierRatePlan: string | null;
  communicationPlan: string | null;
  msisdn: string | null;
  iccid: string | null;
  imei: string | null;
  ipAddress: string | null;
  username: string | null;
  costCenter1: string | null;
  costCenter2: string | null;
  costCenter3: string | null;
  billingCustomerId: string | null;
  customerRatePlanId: string | null;
  customerPoolId: string | null;
  billingServiceId: string | null;
  optimizationGroup: string | null;
  archived: boolean;
  siteId: string | null;
}>;

export interface RowError {
  code: ErrorCode;
  message: string;
  carrierCode?: string;
}

/** A row as a step processes it. */
export interface WorkRow<TRequest = Record<string, unknown>> {
  id: string;
  rowNumber: number;
  deviceId: string | null;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  request: TRequest;
  step: string;
  attempts: number;
  carrierRequestId: string | null;
  /** When the row started waiting for the carrier's asynchronous result. */
  waitingSince: number | null;
  result: Record<string, unknown> | null;
}

/**
 * The outcome of one row in one step; the engine commits it with the audit entries. `TStep` is the
 * flow's step names, so a step cannot send a row on to a step its flow does not have.
 */
export type RowOutcome<TStep extends string = string> =
  | { kind: 'succeeded'; result?: Record<string, unknown>; device?: DevicePatch }
  /**
   * The row failed; `result` and `device` record what did happen on the way (a line activated whose
   * static IP could not be provisioned keeps its MSISDN).
   */
  | { kind: 'failed'; error: RowError; result?: Record<string, unknown>; device?: DevicePatch }
  /**
   * A transient failure: the row goes back to the queue (until its retry budget is spent). When the
   * call may have reached the carrier (`ambiguous`: a timeout, a dropped connection, a 5xx), the row
   * is reconciled before anything is sent again.
   */
  | { kind: 'retry'; error: RowError; retryAfterMs?: number; ambiguous?: boolean }
  /** Reconciliation found the change was not applied: send it again. */
  | { kind: 'resend' }
  /** Go on to another step, now or (waiting) at `nextCheckAt`. */
  | {
      kind: 'next';
      step: TStep;
      waitUntil?: number;
      carrierRequestId?: string;
      result?: Record<string, unknown>;
      /** The inventory learns what an earlier step achieved (an activated line's MSISDN) at once. */
      device?: DevicePatch;
    };

export interface StepContext<TClient> {
  client: TClient;
  account: CarrierAccount;
  /**
   * Collects the audit entries of carrier calls: one row's, a batch call's (every row it carries, so
   * the call is on each row's timeline), or the chunk's as a whole (null: no row's in particular).
   */
  auditFor(rows: WorkRow<unknown> | readonly WorkRow<unknown>[] | null): (entry: AuditRecord) => void;
  /**
   * Saves the carrier's request id on rows at once, before the step returns: if the worker dies now,
   * reconciliation follows that request instead of guessing from the line's state.
   */
  recordRequest(rows: WorkRow<unknown>[], requestId: string): Promise<void>;
  /** Results the carrier has sent for these rows' requests (callbacks), by row id. */
  carrierResults(rows: WorkRow<unknown>[]): Promise<Map<string, Record<string, unknown>>>;
  signal: AbortSignal;
}

export interface Step<TClient, TRequest, TStep extends string = never> {
  /** Rows handed to `run` at once (a carrier batch, or a few seconds of per-line calls). */
  chunkSize(limits: CarrierLimits): number;
  /** Returns one outcome per row, in the same order. */
  run(rows: WorkRow<TRequest>[], context: StepContext<TClient>): Promise<RowOutcome<TStep>[]>;
  /**
   * For rows found `in_progress` after a crash: read the carrier's state and decide, never re-send
   * blindly (DESIGN §2.3). Steps whose call is safe to repeat may omit it.
   */
  reconcile?(rows: WorkRow<TRequest>[], context: StepContext<TClient>): Promise<RowOutcome<TStep>[]>;
}

/** A problem with one input row found at intake, before anything is sent. */
export interface RowIssue {
  field?: string;
  code: ErrorCode;
  message: string;
}

/**
 * The handling of one change type on one carrier (DESIGN §5). `TStep` names its steps: `steps` holds
 * exactly those, and every step may only move a row on to one of them.
 */
export interface Flow<TClient, TRequest, TStep extends string> {
  /** The row fields this flow reads, validated at intake (after options are merged in). */
  requestSchema: z.ZodType<TRequest>;
  /**
   * Checks a row against the inventory before anything is sent; the device is the inventory's line,
   * the settings the carrier account's.
   */
  checkRow?(request: TRequest, device: DeviceRecord, settings: Record<string, unknown>): RowIssue | undefined;
  /** Whether the flow touches the carrier (and so needs writes enabled on the account). */
  writesToCarrier: boolean;
  /**
   * Rows name lines the inventory does not hold yet (new service): intake keys them on this identifier
   * instead of the carrier's, and adds them to the inventory as `inventory` lines for the flow to
   * activate. A line already in service is refused.
   */
  newLines?: { keyField: 'iccid' };
  /**
   * Identifiers a row may name its line by instead of the carrier's key (ThingSpace's identifier
   * change: the line's EID or MSISDN, as the original took them). Intake finds the line by the first
   * of them the row gives, in the account's inventory; the row then carries the line's identifiers.
   */
  lineKeys?: ReadonlyArray<'msisdn' | 'eid'>;
  /**
   * Unarchive acts on archived lines only; every other change type refuses them (DEVICE_ARCHIVED).
   */
  archivedLinesOnly?: true;
  /**
   * The fields a row takes from its line's site (its own, else the tenant's default) at intake, if any:
   * ThingSpace sends the site's address as the place of use of a row that gives none.
   */
  fromSite?(request: TRequest, site: Site): Record<string, unknown> | undefined;
  /** Where a row starts; it may depend on the line's state (add before activate, restore if suspended). */
  firstStep: TStep | ((request: TRequest, device: DeviceRecord) => TStep);
  steps: Record<TStep, Step<TClient, TRequest, TStep>>;
  /** When a row may start, if later than now (a change scheduled for its effective date). */
  startAt?(request: TRequest): number | undefined;
  /**
   * A bulk change that runs for this one's rows once it has finished (new service → customer
   * assignment): the fields of each row's follow-up, or undefined for rows without one.
   */
  followUp?: { changeType: ChangeType; fields(request: TRequest): Record<string, unknown> | undefined };
}
