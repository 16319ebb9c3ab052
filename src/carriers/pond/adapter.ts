import { recase } from '../body-case.ts';
import type { CarrierAdapter, CarrierKit } from '../carrier.ts';
import { PondClient, pondCredentialsSchema, pondErrorSchema, pondSettingsSchema } from './client.ts';
import { pondRatePlanChange, pondStatusUpdate } from './flows.ts';
import { pondInventory } from './inventory.ts';
import { normalisePondStatus, pondTargets } from './statuses.ts';

const parsePondError = (_status: number, body: unknown) => {
  // Read in camelCase whichever case the account's API answers in.
  const parsed = pondErrorSchema.safeParse(recase(body, 'camel'));
  return parsed.success ? { code: parsed.data.error.code, message: parsed.data.error.message } : {};
};

/** POND IoT (Pod Group): packages as rate plans, services enabled or disabled per line (carrier-apis §4). */
export function pondAdapter({ http }: CarrierKit): CarrierAdapter<PondClient> {
  return {
    carrier: 'pond',
    title: 'POND IoT',
    keyField: 'iccid',
    credentialsSchema: pondCredentialsSchema,
    settingsSchema: pondSettingsSchema,
    // POND documents no limits (carrier-apis §7): the simulator's defaults, 10 calls a second and 5 at
    // a time. One line per request.
    defaultLimits: {
      requestsPerSecond: 10,
      maxConcurrent: 5,
      batchSize: 1,
      retryBudget: 8,
      requestTimeoutMs: 30_000,
      checkIntervalMs: 60_000,
      maxWaitMs: 3_600_000,
    },
    targetStatuses: Object.keys(pondTargets) as Array<keyof typeof pondTargets>,
    normaliseStatus: normalisePondStatus,
    flows: {
      status_update: pondStatusUpdate,
      carrier_rate_plan_change: pondRatePlanChange,
    },
    inventory: pondInventory,
    createClient({ account }) {
      const { apiKey } = pondCredentialsSchema.parse(account.credentials);
      const header = pondSettingsSchema.parse(account.settings).apiKeyHeader.toLowerCase();
      return new PondClient(
        account,
        http(account, {
          system: 'pond',
          headers: () => ({ [header]: apiKey }),
          parseError: parsePondError,
          // An unknown distributor fails every call of the account, like refused credentials.
          classify: (_status, _body, parsed) =>
            parsed.code === 'DISTRIBUTOR_NOT_FOUND' ? 'auth' : undefined,
        }),
      );
    },
  };
}
