import type { Generated, Insertable, Selectable } from 'kysely';
import type { CarrierName, ChangeType } from '../core/change-types.ts';
import type { DriftKind, ReconciliationStatus, ReconciliationTrigger } from '../core/drifts.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Role } from '../core/roles.ts';
import type { BulkStatus, NormalisedStatus, PauseReason, RowStatus } from '../core/statuses.ts';

/**
 * The tables, in the one representation both dialects share: ids are UUIDv7 text, times are epoch
 * milliseconds (bigint), booleans are 0/1 integers and JSON documents are text. Columns that hold a
 * vocabulary are typed with its literal union. Repositories convert at the edge; nothing above them
 * sees a column.
 */
export interface Database {
  tenants: TenantTable;
  api_keys: ApiKeyTable;
  users: UserTable;
  carrier_accounts: CarrierAccountTable;
  devices: DeviceTable;
  carrier_rate_plans: CarrierRatePlanTable;
  bulk_changes: BulkChangeTable;
  device_changes: DeviceChangeTable;
  audit_entries: AuditEntryTable;
  jobs: JobTable;
  carrier_results: CarrierResultTable;
  billing_connections: BillingConnectionTable;
  billing_customers: CatalogTable;
  customer_rate_plans: CatalogTable;
  customer_pools: CatalogTable;
  audit_entry_rows: AuditEntryRowTable;
  device_history: DeviceHistoryTable;
  audit_chains: AuditChainTable;
  notification_events: NotificationEventTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  tenant_notification_settings: TenantNotificationSettingsTable;
  tenant_approval_policies: TenantApprovalPolicyTable;
  guard_limiters: GuardLimiterTable;
  guard_slots: GuardSlotTable;
  guard_waiters: GuardWaiterTable;
  guard_circuits: GuardCircuitTable;
  guard_sessions: GuardSessionTable;
  reconciliations: ReconciliationTable;
  reconciliation_drifts: ReconciliationDriftTable;
  reconciliation_schedules: ReconciliationScheduleTable;
  sites: SiteTable;
}

export interface BillingConnectionTable {
  tenant_id: string;
  system: 'revio';
  base_url: string;
  credentials_encrypted: string;
  write_enabled: number;
  settings: string;
  updated_at: number;
}

/** Billing customers, customer rate plans and customer pools share one shape. */
export interface CatalogTable {
  tenant_id: string;
  id: string;
  name: string;
  status: string;
  data_mb: number | null;
  monthly_rate: number | null;
}

export interface CarrierResultTable {
  carrier_account_id: string;
  request_id: string;
  iccid: string;
  payload: string;
  received_at: number;
  /** The callback's audit entry, linked to the row that takes the result. */
  audit_entry_id: number | null;
}

export interface TenantTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  role: Role;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  /** Lower-case. */
  email: string;
  name: string;
  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (src/accounts/passwords.ts). */
  password_hash: string;
  role: Role;
  /** Comma-separated `Module`s; null: every module. */
  modules: string | null;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
  disabled_at: number | null;
}

export interface CarrierAccountTable {
  id: string;
  tenant_id: string;
  name: string;
  carrier: CarrierName;
  base_url: string;
  credentials_encrypted: string;
  write_enabled: number;
  settings: string;
  created_at: number;
  updated_at: number;
  inventory_synced_at: number | null;
  inventory_sync_result: string | null;
  callback_registered_at: number | null;
  /** JSON `{url, ok, error}` of the last registration attempt. */
  callback_registration: string | null;
}

export interface DeviceTable {
  id: string;
  tenant_id: string;
  carrier_account_id: string;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  status: NormalisedStatus;
  carrier_status: string | null;
  carrier_rate_plan: string | null;
  communication_plan: string | null;
  customer_rate_plan_id: string | null;
  customer_pool_id: string | null;
  billing_customer_id: string | null;
  ip_address: string | null;
  username: string | null;
  cost_center1: string | null;
  cost_center2: string | null;
  cost_center3: string | null;
  billing_service_id: string | null;
  /** A mobility line's optimisation group, set with its carrier rate plan. */
  optimization_group: string | null;
  last_usage_at: number | null;
  archived: number;
  site_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A tenant's site (its address is a line's place of use). */
export interface SiteTable {
  id: string;
  tenant_id: string;
  name: string;
  contact_first_name: string | null;
  contact_last_name: string | null;
  address_line1: string;
  address_line2: string | null;
  city: string;
  state: string;
  zip_code: string;
  country: string;
  is_default: number;
  created_at: number;
  updated_at: number;
}

export interface CarrierRatePlanTable {
  id: string;
  carrier_account_id: string;
  code: string;
  name: string;
  data_mb: number | null;
  communication_plan: string | null;
}

export interface BulkChangeTable {
  id: string;
  tenant_id: string;
  carrier_account_id: string;
  change_type: ChangeType;
  status: BulkStatus;
  /** The name its creator gave it; null: the API shows one made from what it does. */
  name: string | null;
  options: string;
  created_by: string;
  /** The creator as the audit log names actors; null for bulk changes made before it was kept. */
  created_by_actor: string | null;
  created_at: number;
  scheduled_for: number | null;
  started_at: number | null;
  completed_at: number | null;
  cancel_requested_at: number | null;
  parent_id: string | null;
  linked_id: string | null;
  retried_as_id: string | null;
  /** The bulk change this one reverses (ADR 0048). */
  undo_of: string | null;
  /** The bulk change that reverses this one: a bulk change is undone once. */
  undone_as_id: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  total_count: number;
  queued_count: Generated<number>;
  in_progress_count: Generated<number>;
  waiting_count: Generated<number>;
  succeeded_count: Generated<number>;
  failed_count: Generated<number>;
  cancelled_count: Generated<number>;
  failure_reason: string | null;
  /** JSON array of addresses told by e-mail when the change ends, besides the tenant's. */
  notify_emails: string | null;
  /** Set while `paused`, cleared on resume (the audit log keeps every pause). */
  pause_reason: PauseReason | null;
  /** The actor's id: `key:<id>` or `engine`. */
  paused_by: string | null;
  paused_at: number | null;
  /** JSON: the figures behind the pause (a wave's, the circuit's `resumeAt`). */
  pause_detail: string | null;
  /** JSON `WaveProgress` (core/waves.ts) of a change sent in canary waves; null without waves. */
  waves: string | null;
  /** The last row number the current wave may send; null: no wave gate. */
  wave_to_row: number | null;
  /** What a destructive change does (`deactivate`, core/destructive.ts); null when it is not destructive. */
  destructive_action: string | null;
  /** JSON `Approval` (core/bulk-change.ts): why it was held for approval, and the decision; null: never held. */
  approval: string | null;
  updated_at: number;
}

export interface DeviceChangeTable {
  id: string;
  tenant_id: string;
  bulk_change_id: string;
  row_number: number;
  device_id: string | null;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  request: string;
  status: RowStatus;
  step: string;
  attempts: number;
  /** Times the carrier was read for the row after a crash or an unclear answer (its own budget). */
  reconciliations: Generated<number>;
  /** Times the row's lease ran out under a worker that never came back, alone or in a chunk with other rows. */
  crashes: Generated<number>;
  /** 1 while the row's claim is the engine's isolating one (the row held alone, ADR 0057), else 0. */
  held_alone: Generated<number>;
  /** Deaths of workers that held the row alone: a row that keeps doing so is set apart. */
  crashes_alone: Generated<number>;
  attempt_id: string | null;
  lease_until: number | null;
  next_check_at: number | null;
  waiting_since: number | null;
  carrier_request_id: string | null;
  error_code: ErrorCode | null;
  error_message: string | null;
  error_carrier_code: string | null;
  result: string | null;
  /** When a destructive change's row was first claimed to be sent (the blast-radius cap counts these). */
  destructive_sent_at: number | null;
  updated_at: number;
}

export interface AuditEntryTable {
  id: Generated<number>;
  tenant_id: string;
  bulk_change_id: string | null;
  device_change_id: string | null;
  carrier_account_id: string | null;
  at: number;
  actor: string;
  action: string;
  system: string;
  request: string | null;
  response: string | null;
  http_status: number | null;
  duration_ms: number | null;
  outcome: string;
  /** The entry's place in its tenant's chain, set once by the sealer (null until sealed). */
  seq: number | null;
  hash: string | null;
  sealed_at: number | null;
}

/** One field a bulk change's row changed on a line, before → after (ADR 0046). */
export interface DeviceHistoryTable {
  id: Generated<number>;
  tenant_id: string;
  device_id: string;
  carrier_account_id: string;
  field: string;
  before: string | null;
  after: string | null;
  bulk_change_id: string;
  device_change_id: string;
  actor: string;
  actor_name: string | null;
  at: number;
}

/** One run of a three-way reconciliation of a carrier account (ADR 0049). */
export interface ReconciliationTable {
  id: string;
  tenant_id: string;
  carrier_account_id: string;
  status: ReconciliationStatus;
  trigger: ReconciliationTrigger;
  requested_by: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  /** JSON: lines read at the carrier, in our inventory, services in billing, drifts found. */
  counts: string | null;
  error: string | null;
}

/** One drift a reconciliation found: a line's field, as the carrier, our inventory and billing have it. */
export interface ReconciliationDriftTable {
  id: Generated<number>;
  reconciliation_id: string;
  tenant_id: string;
  kind: DriftKind;
  field: string;
  device_id: string | null;
  iccid: string | null;
  msisdn: string | null;
  carrier_value: string | null;
  our_value: string | null;
  billing_value: string | null;
  /** The carrier's own word for the line's status (ThingSpace `suspend`). */
  carrier_status: string | null;
  /** The billing customer of the line's active service (or of our line), for a billing fix. */
  billing_customer_id: string | null;
}

/** A carrier account's reconciliation schedule. */
export interface ReconciliationScheduleTable {
  carrier_account_id: string;
  tenant_id: string;
  every_minutes: number;
  next_run_at: number;
}

/** A batch call's (or a callback's) entry, linked to each row it carried. */
export interface AuditEntryRowTable {
  audit_entry_id: number;
  device_change_id: string;
}

/** A tenant's audit chain: the last sealed entry, and where the chain starts after a retention cut. */
export interface AuditChainTable {
  tenant_id: string;
  head_seq: number;
  head_hash: string;
  origin_seq: number;
  origin_hash: string;
  updated_at: number;
}

/** The outbox of tenant events (`bulk_change.completed`, …), read by webhooks, e-mail and the live feed. */
export interface NotificationEventTable {
  id: Generated<number>;
  event_id: string;
  tenant_id: string;
  type: string;
  bulk_change_id: string | null;
  payload: string;
  created_at: number;
  dispatched_at: number | null;
}

export interface WebhookEndpointTable {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  /** JSON array of the event types delivered. */
  events: string;
  secret_encrypted: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export const webhookDeliveryStates = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number];

export interface WebhookDeliveryTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The exact JSON body signed and sent. */
  body: string;
  state: WebhookDeliveryState;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  first_attempt_at: number | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: string;
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** A tenant's guardrail policy (docs/guardrails.md); null columns are off. */
export interface TenantApprovalPolicyTable {
  tenant_id: string;
  /** Destructive changes of more lines than this wait for a second person's approval. */
  approval_above_lines: number | null;
  /** At most this many destructive line changes in any hour; more wait. */
  destructive_lines_per_hour: number | null;
  updated_at: number;
}

export interface TenantNotificationSettingsTable {
  tenant_id: string;
  /** JSON array of addresses. */
  emails: string;
  updated_at: number;
}

// The per-account guards shared by every worker (PostgreSQL only, ADR 0014). Times are epoch ms of
// the database's clock.
export interface GuardLimiterTable {
  key: string;
  last_sent_at: number;
  last_sender: string | null;
  sender: string | null;
  turn_start: number | null;
  send_until: number | null;
  paused_until: number;
  stint_holder: string | null;
  stint_start: number | null;
}

export interface GuardSlotTable {
  key: string;
  slot: number;
  holder: string | null;
  leased_until: number | null;
}

export interface GuardWaiterTable {
  key: string;
  holder: string;
  since: number;
  seen_at: number;
}

export interface GuardCircuitTable {
  key: string;
  failures: number;
  open_until: number | null;
  prober: string | null;
  probe_until: number | null;
}

export interface GuardSessionTable {
  key: string;
  generation: number;
  session_encrypted: string | null;
  version: number;
  refused_logins: number;
  turn_holder: string | null;
  turn_until: number | null;
}

export interface JobTable {
  id: string;
  task: string;
  payload: string;
  key: string | null;
  state: JobState;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A job's life in the queue: waiting to run, running under a lease, or given up. */
export type JobState = 'pending' | 'running' | 'failed';

// Rows as they come out of (and go into) each table, for the repositories that own them.
export type TenantRow = Selectable<TenantTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type CarrierAccountTableRow = Selectable<CarrierAccountTable>;
export type DeviceRow = Selectable<DeviceTable>;
export type NewDeviceRow = Insertable<DeviceTable>;
export type SiteRow = Selectable<SiteTable>;
export type BulkChangeRow = Selectable<BulkChangeTable>;
export type NewBulkChangeRow = Insertable<BulkChangeTable>;
export type DeviceChangeRow = Selectable<DeviceChangeTable>;
export type NewDeviceChangeRow = Insertable<DeviceChangeTable>;
export type AuditEntryRow = Selectable<AuditEntryTable>;
export type DeviceHistoryRow = Selectable<DeviceHistoryTable>;
export type NewAuditEntryRow = Insertable<AuditEntryTable>;
export type JobRow = Selectable<JobTable>;
export type CarrierResultRow = Selectable<CarrierResultTable>;
export type BillingConnectionRow = Selectable<BillingConnectionTable>;
export type CatalogRow = Selectable<CatalogTable>;
export type AuditChainRow = Selectable<AuditChainTable>;
export type NotificationEventRow = Selectable<NotificationEventTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
export type ReconciliationRow = Selectable<ReconciliationTable>;
export type ReconciliationDriftRow = Selectable<ReconciliationDriftTable>;
