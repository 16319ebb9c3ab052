import type { z } from 'zod';
import type { CarrierName, ChangeType } from '../core/change-types.ts';
import type { CarrierAccount, CarrierLimits, Flow } from '../core/flow.ts';
import type { NormalisedStatus } from '../core/statuses.ts';
import type { CallContext } from './http/call.ts';
import type { CarrierHttpClientFactory } from './http/factory.ts';
import type { CarrierGuards } from './limits/guards.ts';

export interface ClientContext {
  account: CarrierAccount;
  /** Changes whenever the account does (new credentials among others): names its credentials' generation. */
  version: number;
  /** Where the client records what it learns about its account beyond each call's audit record. */
  reports: AccountReports;
}

/** The last attempt to register the account's callback listener with the carrier. */
export interface CallbackRegistration {
  /** Epoch ms of the attempt. */
  at: number;
  url: string;
  ok: boolean;
  /** Why the carrier (or the network) refused it; null when it was registered. */
  error: string | null;
}

/**
 * What a carrier client reports about its account (kept with the account, shown by its API view and
 * the portal): today, whether the carrier took the callback listener, so an account that falls back
 * to polling says so instead of failing silently.
 */
export interface AccountReports {
  callbackRegistration(accountId: string, registration: CallbackRegistration): Promise<void>;
}

/** For builds and tests that keep no account state: reports go nowhere. */
export const unrecordedReports: AccountReports = { callbackRegistration: async () => {} };

/** A line as the carrier reports it, for the inventory sync. */
export interface LineSnapshot {
  iccid: string;
  imei?: string | null;
  msisdn?: string | null;
  eid?: string | null;
  carrierStatus: string;
  carrierRatePlan?: string | null;
  communicationPlan?: string | null;
  /** Epoch ms the carrier last saw the line use the network, where it reports that. */
  lastUsageAt?: number | null;
}

/** Reads every line of an account from the carrier, a page at a time. */
export interface InventorySource<TClient> {
  pages(client: TClient, context: CallContext): AsyncIterable<LineSnapshot[]>;
}

/**
 * How often the carrier lets a line change (ThingSpace: 5 provisioning actions a day, 4 plan changes a
 * month). Intake counts the line's changes in our own history and the carrier's own refusals; a row
 * that would pass it waits for the next period, as does a row the carrier refuses for it.
 */
export interface LineQuota {
  changeTypes: readonly ChangeType[];
  max: number;
  /** The carrier counts per UTC calendar day or month. */
  period: 'day' | 'month';
  /** What the carrier allows, for the operator: "ThingSpace allows 4 plan changes per line a month". */
  rule: string;
  /**
   * How the carrier's code ends when it refuses a line for this quota. Such a refusal this period
   * means the quota is spent whatever our history counts: changes made outside bulkchange count too.
   */
  refusalCode?: string;
}

/** What every carrier implements (DESIGN §6). */
export interface CarrierAdapter<TClient = unknown> {
  carrier: CarrierName;
  title: string;
  /** The identifier the carrier keys lines on, which every row must carry. */
  keyField: 'iccid' | 'msisdn' | 'eid';
  credentialsSchema: z.ZodType<Record<string, unknown>>;
  settingsSchema: z.ZodType<Record<string, unknown>>;
  defaultLimits: CarrierLimits;
  /** The normalised target statuses `status_update` can reach on this carrier. */
  targetStatuses: readonly NormalisedStatus[];
  normaliseStatus(carrierStatus: string): NormalisedStatus;
  // biome-ignore lint/suspicious/noExplicitAny: each flow has its own request and steps; the engine treats them alike.
  flows: Partial<Record<ChangeType, Flow<TClient, any, any>>>;
  createClient(context: ClientContext): TClient;
  /** Where the carrier can list an account's lines, the inventory sync reads them. */
  inventory?: InventorySource<TClient>;
  lineQuotas?: readonly LineQuota[];
  /** Where the carrier posts asynchronous results to us (`POST /callbacks/{carrier}/{accountId}`). */
  callbacks?: CallbackReceiver;
}

/** A request the carrier sent us, as a callback receiver sees it. */
export interface InboundCallback {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One asynchronous result a callback carries: for which request and line, and what the carrier said. */
export interface CallbackResult {
  requestId: string;
  /** The line, when the carrier named it; a result for no line is audited, not stored. */
  iccid: string | null;
  /** What the flow's confirm step reads (secrets removed). */
  payload: Record<string, unknown>;
  /** The whole callback for the audit log, redacted. */
  audit: unknown;
}

/**
 * What a carrier supplies for its callbacks (DESIGN §4.1 `callbacks/`): who may post them and what
 * they say. Storing, auditing and waking the waiting rows are the same for every carrier.
 */
export interface CallbackReceiver {
  /** Whether the callback presents the credentials registered for the account (constant time). */
  authenticate(account: CarrierAccount, callback: InboundCallback): boolean;
  /** The callback's result, or undefined when it is not one this carrier sends. */
  parse(body: unknown): CallbackResult | undefined;
}

/** What carrier adapters build their clients with: HTTP clients and the per-account guards. */
export interface CarrierKit {
  http: CarrierHttpClientFactory;
  guards: CarrierGuards;
}
