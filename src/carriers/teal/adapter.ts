import { recase } from '../body-case.ts';
import type { CarrierAdapter, CarrierKit } from '../carrier.ts';
import { TealClient, tealCredentialsSchema, tealErrorSchema, tealSettingsSchema } from './client.ts';
import { tealRatePlanChange, tealStatusUpdate } from './flows.ts';
import { tealInventory } from './inventory.ts';
import { normaliseTealState, tealTargets } from './statuses.ts';

const parseTealError = (_status: number, body: unknown) => {
  // Read in camelCase whichever case the account's API answers in.
  const parsed = tealErrorSchema.safeParse(recase(body, 'camel'));
  return parsed.success ? { message: parsed.data.errorMessage } : {};
};

/** Teal: eSIMs keyed by EID, asynchronous batched writes confirmed by polling their operation (carrier-apis §5). */
export function tealAdapter({ http }: CarrierKit): CarrierAdapter<TealClient> {
  return {
    carrier: 'teal',
    title: 'Teal',
    keyField: 'eid',
    credentialsSchema: tealCredentialsSchema,
    settingsSchema: tealSettingsSchema,
    // Teal documents only the page size of 100 (carrier-apis §7): at most 100 EIDs a write, and the
    // simulator's 10 calls a second, 4 at a time. An operation finishes in about a second there.
    defaultLimits: {
      requestsPerSecond: 10,
      maxConcurrent: 4,
      batchSize: 100,
      retryBudget: 8,
      requestTimeoutMs: 30_000,
      checkIntervalMs: 5_000,
      maxWaitMs: 3_600_000,
    },
    targetStatuses: Object.keys(tealTargets) as Array<keyof typeof tealTargets>,
    normaliseStatus: normaliseTealState,
    flows: {
      status_update: tealStatusUpdate,
      carrier_rate_plan_change: tealRatePlanChange,
    },
    inventory: tealInventory,
    createClient({ account }) {
      const { apiKey, apiSecret } = tealCredentialsSchema.parse(account.credentials);
      const { apiKeyHeader, apiSecretHeader } = tealSettingsSchema.parse(account.settings);
      return new TealClient(
        account,
        http(account, {
          system: 'teal',
          headers: () => ({ [apiKeyHeader]: apiKey, [apiSecretHeader]: apiSecret }),
          parseError: parseTealError,
        }),
      );
    },
  };
}
