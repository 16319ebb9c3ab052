import { newId } from '../../src/shared/ids.ts';

/** The service's URL and an API client on it: the in-process `TestService` and an `E2eStack` both have them. */
interface AccountsApi {
  url: string;
  api<T>(
    method: string,
    pathname: string,
    options?: { body: unknown },
  ): Promise<{ status: number; body: T; text: string }>;
}

export interface CarrierAccountSpec {
  carrier: string;
  baseUrl: string;
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** The account's call limits: `settings.limits`. */
  limits?: Record<string, unknown>;
  /** A unique name by default. */
  name?: string;
  /** True by default: most tests change lines. */
  writeEnabled?: boolean;
}

/** Creates a carrier account through the API and returns its id; anything but 201 throws. */
export async function carrierAccountFixture(client: AccountsApi, spec: CarrierAccountSpec): Promise<string> {
  const { carrier, baseUrl, credentials, settings = {}, limits, writeEnabled = true } = spec;
  const created = await client.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
    body: {
      name: spec.name ?? `${carrier} ${newId()}`,
      carrier,
      baseUrl,
      credentials,
      writeEnabled,
      settings: limits ? { ...settings, limits } : settings,
    },
  });
  if (created.status !== 201) throw new Error(`carrier account: ${created.status} ${created.text}`);
  return created.body.id;
}

/**
 * A ThingSpace account on the simulator at `baseUrl`, whose callbacks come to the client's service: their
 * URL names the account, so it is set once the account exists. Resolves with the account's id.
 */
export async function thingSpaceAccountFixture(
  client: AccountsApi,
  spec: {
    baseUrl: string;
    accountName: string;
    callbackPassword: string;
    limits: Record<string, unknown>;
    name?: string;
  },
): Promise<string> {
  const accountId = await carrierAccountFixture(client, {
    name: spec.name,
    carrier: 'thingspace',
    baseUrl: spec.baseUrl,
    credentials: {
      clientId: 'demo-client-id',
      clientSecret: 'demo-client-secret',
      username: 'demo-user',
      password: 'demo-password',
      callbackPassword: spec.callbackPassword,
    },
    settings: {
      accountName: spec.accountName,
      defaultServicePlan: 'M2M4G1GB',
      defaultMdnZipCode: '98801',
      callbackUsername: 'bulkchange',
    },
    limits: spec.limits,
  });
  const account = await client.api<{ settings: Record<string, unknown> }>(
    'GET',
    `/api/v1/carrier-accounts/${accountId}`,
  );
  const callbackUrl = `${client.url}/callbacks/thingspace/${accountId}`;
  const patched = await client.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
    body: { settings: { ...account.body.settings, callbackUrl } },
  });
  if (patched.status !== 200) throw new Error(`callback URL: ${patched.status} ${patched.text}`);
  return accountId;
}
