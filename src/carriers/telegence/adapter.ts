import type { CarrierAdapter, CarrierKit } from '../carrier.ts';
import {
  TelegenceClient,
  telegenceCredentialsSchema,
  telegenceErrorSchema,
  telegenceSettingsSchema,
} from './client.ts';
import { telegenceActivation } from './flows/activation.ts';
import {
  telegenceIdentifierChange,
  telegenceRatePlanChange,
  telegenceStatusUpdate,
  telegenceUsernameChange,
} from './flows/line-changes.ts';
import { telegenceInventory } from './inventory.ts';
import { normaliseTelegenceStatus, telegenceTargets } from './statuses.ts';

/** What AT&T's error body says, with the two answers that have a meaning of their own. */
function parseTelegenceError(status: number, body: unknown) {
  const parsed = telegenceErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { errorDescription, responseMessage, description, message } = parsed.data;
  const text = errorDescription ?? responseMessage ?? description ?? message;
  // eSIM-only devices: a 404 whose description is the bare service path (carrier-apis §3.3).
  if (description === '/service/') return { code: 'ESIM_REQUIRED', message: text };
  if (status === 404) return { code: 'NOT_FOUND', message: text };
  return { message: text };
}

/** AT&T Telegence (APEX mobility): lines keyed on the subscriber number (carrier-apis §3). */
export function telegenceAdapter({ http }: CarrierKit): CarrierAdapter<TelegenceClient> {
  return {
    carrier: 'telegence',
    title: 'AT&T Telegence',
    keyField: 'msisdn',
    credentialsSchema: telegenceCredentialsSchema,
    settingsSchema: telegenceSettingsSchema,
    // No published rate limit; AMOP ran 10 PATCHes in parallel. Activations: ≤200 a request, polled
    // every 5 minutes up to 6 times in the original; here every minute for up to 2 hours.
    defaultLimits: {
      requestsPerSecond: 10,
      maxConcurrent: 10,
      batchSize: 200,
      retryBudget: 6,
      requestTimeoutMs: 60_000,
      checkIntervalMs: 60_000,
      maxWaitMs: 2 * 3_600_000,
    },
    targetStatuses: Object.keys(telegenceTargets) as Array<keyof typeof telegenceTargets>,
    normaliseStatus: normaliseTelegenceStatus,
    flows: {
      activate_new_service: telegenceActivation,
      status_update: telegenceStatusUpdate,
      carrier_rate_plan_change: telegenceRatePlanChange,
      identifier_change: telegenceIdentifierChange,
      username_cost_center_change: telegenceUsernameChange,
    },
    inventory: telegenceInventory,
    createClient({ account }) {
      const credentials = telegenceCredentialsSchema.parse(account.credentials);
      return new TelegenceClient(
        account,
        http(account, {
          system: 'telegence',
          headers: () => ({ 'app-id': credentials.appId, 'app-secret': credentials.appSecret }),
          parseError: parseTelegenceError,
        }),
      );
    },
  };
}
