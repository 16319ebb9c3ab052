import assert from 'node:assert/strict';
import { createRevioSimulator } from '../../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from '../support/billing-connection.ts';
import { carrierAccountFixture } from '../support/carrier-accounts.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from '../support/service.ts';

/** Everything the generated requests point at: real ids, keys and tokens of a running service. */
export interface FuzzContext {
  url: string;
  /** The carrier simulator the accounts call (a base URL the outbound policy allows). */
  simulatorUrl: string;
  /** The billing simulator the tenant's connection calls. */
  revioUrl: string;
  keys: { admin: string; operator: string; viewer: string; otherTenant: string };
  /** Keys the requests may revoke: never the ones above. */
  disposableKeyIds: string[];
  jasperAccountId: string;
  thingSpaceAccountId: string;
  iccids: string[];
  bulkChangeId: string;
  changeId: string;
  deviceId: string;
  /** Another tenant's carrier account: every probe at it must be a 404. */
  foreignAccountId: string;
  /** A webhook endpoint of the tenant and one of its deliveries (a test event). */
  webhookId: string;
  deliveryId: string;
  /** A site of the tenant. */
  siteId: string;
  /** An audit entry of the tenant. */
  auditEntryId: string;
  /** A portal user of the tenant (the requests may disable and re-enable them). */
  userId: string;
  callback: { username: string; password: string };
  portal: { cookie: string; csrf: string };
  /** A second session, for the requests that may sign out: the first one stays for the others. */
  spare: { cookie: string; csrf: string };
  signIn: { cookie: string; token: string };
  /** The portal's asset files, by the names its pages link (hashed). */
  assetFiles: string[];
}

export interface FuzzTarget {
  test: TestService;
  context: FuzzContext;
  /** Signs the portal in again when a request ended its session (sign-out, an eviction). */
  refreshPortalSession(): Promise<void>;
  stop(): Promise<void>;
}

const CALLBACK = { username: 'fuzz-callbacks', password: 'fuzz-callback-password' };

/** The service of a fuzz run, on `dialect`, with a realistic tenant: accounts, lines, a finished change. */
export async function startFuzzTarget(dialect: 'sqlite' | 'postgres'): Promise<FuzzTarget> {
  const test = await startTestService(dialect, {
    // Requests come "from" many addresses (X-Forwarded-For), so throttling shows without starving the run.
    BULKCHANGE_TRUST_PROXY: 'loopback',
    HTTP_BODY_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'silent',
  });
  try {
    const jasper = await jasperFixture(test, { count: 12, prefix: '8901900' });
    const keyOf = (tenant: string, role: 'admin' | 'operator' | 'viewer') => test.keyFor(tenant, role);
    const keys = {
      admin: test.adminKey,
      operator: await keyOf('acme', 'operator'),
      viewer: await keyOf('acme', 'viewer'),
      otherTenant: await keyOf('other-tenant', 'admin'),
    };
    const disposable = [await keyOf('acme', 'viewer'), await keyOf('acme', 'operator')];
    const listed = await test.api<{ items: Array<{ id: string; prefix: string }> }>(
      'GET',
      '/api/v1/api-keys',
    );
    const disposableKeyIds = listed.body.items
      .filter((key) => disposable.some((value) => value.startsWith(key.prefix)))
      .map((key) => key.id);

    const thingSpaceAccountId = await carrierAccountFixture(test, {
      carrier: 'thingspace',
      baseUrl: jasper.simulatorUrl,
      credentials: {
        clientId: 'c',
        clientSecret: 's',
        username: 'u',
        password: 'p',
        callbackPassword: CALLBACK.password,
      },
      settings: {
        accountName: 'fuzz',
        callbackUrl: 'https://example.com/cb',
        callbackUsername: CALLBACK.username,
      },
    });
    const revioUrl = await test.serveSimulator(
      createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
    );
    const billing = await test.api('PUT', '/api/v1/billing-connection', {
      body: revioConnection(revioUrl, { settings: { providerIds: { jasper: 3 } } }),
    });
    assert.equal(billing.status, 200, billing.text);

    const created = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
      body: {
        carrierAccountId: jasper.accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active' },
        changes: jasper.iccids.slice(0, 3).map((iccid) => ({ iccid })),
      },
    });
    assert.equal(created.status, 201, created.text);
    await waitForFinish(test, created.body.id);
    const changes = await test.api<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/bulk-changes/${created.body.id}/changes`,
    );
    const devices = await test.api<{ items: Array<{ id: string }> }>('GET', '/api/v1/devices?limit=1');

    const foreignAccount = await test.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
      key: keys.otherTenant,
      body: {
        name: 'foreign',
        carrier: 'jasper',
        baseUrl: jasper.simulatorUrl,
        credentials: { username: 'demo', apiKey: 'demo-api-key' },
      },
    });
    assert.equal(foreignAccount.status, 201, foreignAccount.text);

    const webhook = await test.api<{ id: string }>('POST', '/api/v1/webhooks', {
      body: { url: `${jasper.simulatorUrl}/hook`, events: ['bulk_change.completed'] },
    });
    assert.equal(webhook.status, 201, webhook.text);
    const delivery = await test.api<{ id: string }>('POST', `/api/v1/webhooks/${webhook.body.id}/test`);
    assert.equal(delivery.status, 202, delivery.text);
    const site = await test.api<{ id: string }>('POST', '/api/v1/sites', {
      body: {
        name: 'Fuzz depot',
        addressLine1: '1 Main St',
        city: 'Wenatchee',
        state: 'WA',
        zipCode: '98801',
      },
    });
    assert.equal(site.status, 201, site.text);
    const user = await test.api<{ id: string }>('POST', '/api/v1/users', {
      body: { email: 'fuzz@acme.test', name: 'Fuzz', role: 'operator', password: 'fuzz-password-1' },
    });
    assert.equal(user.status, 201, user.text);
    const audit = await test.api<{ items: Array<{ id: string }> }>('GET', '/api/v1/audit?limit=1');

    const context: FuzzContext = {
      url: test.url,
      simulatorUrl: jasper.simulatorUrl,
      revioUrl,
      keys,
      disposableKeyIds,
      jasperAccountId: jasper.accountId,
      thingSpaceAccountId,
      iccids: jasper.iccids,
      bulkChangeId: created.body.id,
      changeId: changes.body.items[0].id,
      deviceId: devices.body.items[0].id,
      foreignAccountId: foreignAccount.body.id,
      webhookId: webhook.body.id,
      deliveryId: delivery.body.id,
      siteId: site.body.id,
      auditEntryId: audit.body.items[0].id,
      userId: user.body.id,
      callback: CALLBACK,
      portal: { cookie: '', csrf: '' },
      spare: { cookie: '', csrf: '' },
      signIn: { cookie: '', token: '' },
      assetFiles: await assetFiles(test.url),
    };
    const target: FuzzTarget = {
      test,
      context,
      async refreshPortalSession() {
        for (const session of ['portal', 'spare'] as const) {
          const page = await fetch(`${test.url}/portal/bulk-changes`, {
            headers: { cookie: context[session].cookie },
            redirect: 'manual',
          });
          if (page.status === 200 && context[session].csrf) continue;
          const fresh = await signIn(test.url, keys.admin);
          context[session] = fresh.portal;
          context.signIn = fresh.signIn;
        }
      },
      stop: () => test.stop(),
    };
    await target.refreshPortalSession();
    return target;
  } catch (error) {
    await test.stop();
    throw error;
  }
}

/** Signs in through the portal's form; the session cookie and CSRF token, and a fresh sign-in form's. */
async function signIn(url: string, apiKey: string): Promise<Pick<FuzzContext, 'portal' | 'signIn'>> {
  const form = async () => {
    const page = await fetch(`${url}/portal/sign-in`);
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
    const cookie = page.headers.getSetCookie()[0].split(';')[0];
    return { token, cookie };
  };
  const first = await form();
  const signedIn = await fetch(`${url}/portal/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: first.cookie },
    body: new URLSearchParams({ apiKey, _csrf: first.token }).toString(),
  });
  assert.equal(signedIn.status, 303);
  const cookie = signedIn.headers
    .getSetCookie()
    .find((value) => value.startsWith('bulkchange_session='))!
    .split(';')[0];
  const page = await fetch(`${url}/portal/bulk-changes/new`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  return { portal: { cookie, csrf }, signIn: await form() };
}

async function assetFiles(url: string): Promise<string[]> {
  const page = await (await fetch(`${url}/portal/sign-in`)).text();
  return [...page.matchAll(/\/portal\/assets\/([^"]+)"/g)].map((match) => match[1]);
}
