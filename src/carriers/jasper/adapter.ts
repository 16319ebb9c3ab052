import type { CarrierAdapter, CarrierKit } from '../carrier.ts';
import { JasperClient, jasperCredentialsSchema, jasperSettingsSchema } from './client.ts';
import { classifyJasperError, parseJasperError } from './errors.ts';
import { jasperRatePlanChange, jasperStatusUpdate } from './flows.ts';
import { jasperInventory } from './inventory.ts';
import { jasperTargets, normaliseJasperStatus } from './statuses.ts';
import { jasperUsernameChange } from './username.ts';

/** Cisco IoT Control Center: Jasper, POD19, T-Mobile Jasper and Rogers accounts (`settings.variant`). */
export function jasperAdapter({ http }: CarrierKit): CarrierAdapter<JasperClient> {
  return {
    carrier: 'jasper',
    title: 'Cisco IoT Control Center (Jasper family)',
    keyField: 'iccid',
    credentialsSchema: jasperCredentialsSchema,
    settingsSchema: jasperSettingsSchema,
    // Documented: at most 5 calls per second and one call at a time (carrier-apis §2.4).
    defaultLimits: {
      requestsPerSecond: 5,
      maxConcurrent: 1,
      batchSize: 1,
      retryBudget: 8,
      requestTimeoutMs: 30_000,
      checkIntervalMs: 60_000,
      maxWaitMs: 3_600_000,
    },
    targetStatuses: Object.keys(jasperTargets) as Array<keyof typeof jasperTargets>,
    normaliseStatus: normaliseJasperStatus,
    flows: {
      status_update: jasperStatusUpdate,
      carrier_rate_plan_change: jasperRatePlanChange,
      username_cost_center_change: jasperUsernameChange,
    },
    inventory: jasperInventory,
    createClient({ account }) {
      const credentials = jasperCredentialsSchema.parse(account.credentials);
      const basic = Buffer.from(`${credentials.username}:${credentials.apiKey}`).toString('base64');
      return new JasperClient(
        account,
        http(account, {
          system: 'jasper',
          headers: () => ({ authorization: `Basic ${basic}` }),
          parseError: parseJasperError,
          classify: classifyJasperError,
        }),
      );
    },
  };
}
