import type { CarrierAdapter, CarrierKit } from '../carrier.ts';
import { thingSpaceCallbacks } from './callbacks.ts';
import {
  ACTIVATE_REQUESTS_PER_MINUTE,
  httpOptions,
  ThingSpaceClient,
  thingSpaceCredentialsSchema,
  thingSpaceSettingsSchema,
} from './client.ts';
import { thingSpaceIdentifierChange, thingSpaceRatePlanChange, thingSpaceStatusUpdate } from './flows.ts';
import { thingSpaceInventory } from './inventory.ts';
import { normaliseThingSpaceState, thingSpaceTargets } from './statuses.ts';

/** Verizon ThingSpace: asynchronous, batched, results by callback or by polling (carrier-apis §1). */
export function thingSpaceAdapter({ http, guards }: CarrierKit): CarrierAdapter<ThingSpaceClient> {
  return {
    carrier: 'thingspace',
    title: 'Verizon ThingSpace',
    keyField: 'iccid',
    callbacks: thingSpaceCallbacks,
    credentialsSchema: thingSpaceCredentialsSchema,
    settingsSchema: thingSpaceSettingsSchema,
    // Documented: ≤10,000 devices a request, ≤100 activate requests a minute (carrier-apis §1.9);
    // activation may sit pending for up to 24 h.
    defaultLimits: {
      requestsPerSecond: 10,
      maxConcurrent: 4,
      batchSize: 10_000,
      retryBudget: 8,
      requestTimeoutMs: 60_000,
      checkIntervalMs: 60_000,
      maxWaitMs: 24 * 3_600_000,
    },
    targetStatuses: thingSpaceTargets,
    // Documented (carrier-apis §1.9); the carrier refuses what passes them: such rows wait instead.
    lineQuotas: [
      {
        changeTypes: ['status_update'],
        max: 5,
        period: 'day',
        rule: 'ThingSpace allows 5 provisioning actions per line a day',
        refusalCode: 'ProvisioningLimitExceeded',
      },
      {
        changeTypes: ['carrier_rate_plan_change'],
        max: 4,
        period: 'month',
        rule: 'ThingSpace allows 4 plan changes per line a month',
        refusalCode: 'ChangeLimitExceeded',
      },
    ],
    normaliseStatus: normaliseThingSpaceState,
    inventory: thingSpaceInventory,
    flows: {
      status_update: thingSpaceStatusUpdate,
      carrier_rate_plan_change: thingSpaceRatePlanChange,
      identifier_change: thingSpaceIdentifierChange,
    },
    // The client sends each call's own headers: the two tokens, or the login's credentials.
    createClient: ({ account, version, reports }) =>
      new ThingSpaceClient(
        account,
        http(account, { ...httpOptions, headers: () => ({}) }),
        {
          activations: guards.limiter(`${account.id}:activate`, {
            requestsPerSecond: ACTIVATE_REQUESTS_PER_MINUTE / 60,
            maxConcurrent: Number.POSITIVE_INFINITY,
          }),
          // One login for the account, whichever process needs it; new credentials (a new version) start afresh.
          sessions: guards.sessions(account.id),
          generation: version,
        },
        reports,
      ),
  };
}
