import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiKeys } from '../accounts/api-keys.ts';
import type { AttemptThrottle } from '../accounts/attempt-throttle.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import type { CarrierAccountRoutesOptions } from '../accounts/routes.ts';
import type { Users } from '../accounts/users.ts';
import type { BillingCatalogs } from '../billing/billing-catalogs.ts';
import type { ActivationWorkbookTemplates } from '../bulk-changes/activation-workbook-template.ts';
import type { ApprovalPolicies } from '../bulk-changes/approval-policy.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import type { AccountHealth } from '../carriers/account-health.ts';
import type { Devices } from '../devices/devices-service.ts';
import type { Sites } from '../devices/sites.ts';
import type { NotificationSettings } from '../notifications/notification-settings.ts';
import type { Webhooks } from '../notifications/webhooks.ts';
import type { Reconciliations } from '../reconciliation/reconciliations.ts';
import type { ChangeCatalog } from './change-catalog.ts';
import type { PreviewStash } from './preview-stash.ts';
import type { SessionLimits, SessionStore } from './session.ts';

/** The Fastify instance pages register on: zod schemas type their params, queries and bodies. */
export type PortalApp = Parameters<FastifyPluginAsyncZod>[0];

/** The services the portal reads and acts through: the same as the API's, never the database. */
export interface PortalServices {
  apiKeys: ApiKeys;
  /** Portal users: e-mail and password sign-in, managed by admins. */
  users: Users;
  /** Failed sign-ins, throttled per address and key prefix with the API's. */
  throttle: AttemptThrottle;
  accounts: CarrierAccounts;
  /** Billing customers, customer rate plans and pools: the new bulk change form's pickers. */
  catalogs: BillingCatalogs;
  bulkChanges: BulkChanges;
  /** The tenant's approval policy and blast-radius cap (the guardrails page). */
  approvalPolicies: ApprovalPolicies;
  /** The activation workbook template of a Telegence account (ADR 0052). */
  activationTemplates: ActivationWorkbookTemplates;
  devices: Devices;
  sites: Sites;
  webhooks: Webhooks;
  notificationSettings: NotificationSettings;
  /** Carrier calls and circuit states seen by this process, for the health charts. */
  health: AccountHealth;
  /** Three-way reconciliations and their fixes. */
  reconciliations: Reconciliations;
  /** Queues a read of the account's lines from its carrier (the API's inventory sync). */
  requestInventorySync: CarrierAccountRoutesOptions['requestInventorySync'];
}

/** What the pages share: the services plus the portal's own state. */
export interface PortalDeps extends PortalServices {
  catalog: ChangeCatalog;
  maxUploadBytes: number;
  sessions: SessionStore;
  sessionLimits: SessionLimits;
  /** Cookies are `Secure` when the service's public URL is https (else when the request came over https). */
  publicUrl: string | undefined;
  previews: PreviewStash;
}
