import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import { submitChange } from './support/bulk-changes.ts';
import { thingSpaceAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { cookieValue, portalSession, postSignIn, setCookies, signInForm } from './support/portal-session.ts';
import { simAdmin } from './support/processes.ts';
import { startTestService, type TestService, testIccids, waitForFinish } from './support/service.ts';

type KeyView = {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

for (const dialect of testDialects) {
  describe(`API keys: listed, revoked, last use recorded, on ${dialect}`, () => {
    let test: TestService;
    before(async () => {
      test = await startTestService(dialect);
    });
    after(() => test.stop());

    const keys = async (key?: string) =>
      (await test.api<{ items: KeyView[] }>('GET', '/api/v1/api-keys', { key })).body.items;

    it("lists the tenant's keys to admins only, never a hash, with when each was last used", async () => {
      const viewer = await test.keyFor('acme', 'viewer');
      await test.keyFor('other-tenant', 'admin');
      const listed = await test.api<{ items: KeyView[] }>('GET', '/api/v1/api-keys');
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(
        listed.body.items.map((key) => key.role).sort(),
        ['admin', 'viewer'],
        'one tenant only',
      );
      assert.doesNotMatch(listed.text, /hash|bck_[A-Za-z0-9_-]{20,}/);
      for (const key of listed.body.items) {
        assert.deepEqual(Object.keys(key).sort(), [
          'createdAt',
          'id',
          'lastUsedAt',
          'name',
          'prefix',
          'revokedAt',
          'role',
        ]);
        assert.equal(key.prefix.length, 10);
      }
      const admin = listed.body.items.find((key) => key.role === 'admin')!;
      assert.ok(admin.lastUsedAt, 'the admin key was just used');
      assert.ok(Math.abs(Date.parse(admin.lastUsedAt) - Date.now()) < 60_000);
      assert.equal(listed.body.items.find((key) => key.role === 'viewer')!.lastUsedAt, null);
      await test.api('GET', '/api/v1/carrier-accounts', { key: viewer });
      assert.ok((await keys()).find((key) => key.role === 'viewer')!.lastUsedAt, 'the viewer key now too');
      assert.equal((await test.api('GET', '/api/v1/api-keys', { key: viewer })).status, 403);
    });

    it('revokes a key: it stops working at once, in the API and in a portal session', async () => {
      const operator = await test.keyFor('acme', 'operator');
      const { cookie } = await portalSession(test.url, operator);
      const page = () =>
        fetch(`${test.url}/portal/bulk-changes`, { headers: { cookie }, redirect: 'manual' });
      assert.equal((await page()).status, 200);
      assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key: operator })).status, 200);
      const id = (await keys()).find((key) => key.role === 'operator' && key.revokedAt === null)!.id;

      const revoked = await test.api<KeyView>('DELETE', `/api/v1/api-keys/${id}`);
      assert.equal(revoked.status, 200, revoked.text);
      assert.ok(revoked.body.revokedAt);
      assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key: operator })).status, 401);
      const after = await page();
      assert.equal(after.status, 303);
      assert.match(after.headers.get('location') ?? '', /^\/portal\/sign-in/);
      const again = await test.api<KeyView>('DELETE', `/api/v1/api-keys/${id}`);
      assert.equal(again.body.revokedAt, revoked.body.revokedAt, 'a second revoke keeps the first time');
    });

    it("answers 404 for another tenant's key, and refuses non-admins", async () => {
      const otherAdmin = await test.keyFor('third-tenant', 'admin');
      const otherId = (await keys(otherAdmin))[0].id;
      const refused = await test.api<{ error: { code: string } }>('DELETE', `/api/v1/api-keys/${otherId}`);
      assert.equal(refused.status, 404);
      assert.equal(refused.body.error.code, 'NOT_FOUND');
      assert.equal((await test.api('GET', '/api/v1/carrier-accounts', { key: otherAdmin })).status, 200);
      const operator = await test.keyFor('acme', 'operator');
      assert.equal((await test.api('DELETE', `/api/v1/api-keys/${otherId}`, { key: operator })).status, 403);
    });
  });
}

describe('failed authentication is throttled per address and per key prefix', () => {
  let test: TestService;
  before(async () => {
    // Behind a trusted proxy, so each case can come from an address of its own.
    test = await startTestService('sqlite', {
      AUTH_FAILURES_PER_MINUTE: '5',
      BULKCHANGE_TRUST_PROXY: 'true',
    });
  });
  after(() => test.stop());
  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('refuses an address after 5 failed API keys, valid keys included, with 429 and Retry-After', async () => {
    const headers = from('203.0.113.10');
    for (let attempt = 0; attempt < 5; attempt++) {
      const refused = await test.api('GET', '/api/v1/bulk-changes', {
        key: `bck_wrong${attempt}xxxxxxxxxx`,
        headers,
      });
      assert.equal(refused.status, 401);
    }
    const throttled = await test.api<{ error: { code: string } }>('GET', '/api/v1/bulk-changes', {
      key: 'bck_wrong-again',
      headers,
    });
    assert.equal(throttled.status, 429, throttled.text);
    assert.equal(throttled.body.error.code, 'TOO_MANY_REQUESTS');
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    const valid = await test.api('GET', '/api/v1/bulk-changes', { headers });
    assert.equal(valid.status, 429, 'refused before the key is looked at');
    assert.equal(
      (await test.api('GET', '/api/v1/bulk-changes', { headers: from('203.0.113.11') })).status,
      200,
    );
  });

  it('refuses a key prefix after 5 failures, from whatever address, but never locks out the valid key', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const refused = await test.api('GET', '/api/v1/bulk-changes', {
        key: `bck_samepfx-guess-${attempt}`,
        headers: from(`198.51.100.${attempt}`),
      });
      assert.equal(refused.status, 401);
    }
    const throttled = await test.api('GET', '/api/v1/bulk-changes', {
      key: 'bck_samepfx-guess-next',
      headers: from('198.51.100.99'),
    });
    assert.equal(throttled.status, 429);

    const prefix = test.adminKey.slice(0, 10);
    for (let attempt = 0; attempt < 6; attempt++) {
      await test.api('GET', '/api/v1/bulk-changes', {
        key: `${prefix}-guess-${attempt}`,
        headers: from(`198.51.101.${attempt}`),
      });
    }
    const guessed = await test.api('GET', '/api/v1/bulk-changes', {
      key: `${prefix}-guess-x`,
      headers: from('198.51.101.90'),
    });
    assert.equal(guessed.status, 429, 'guesses at the admin key are throttled');
    const holder = await test.api('GET', '/api/v1/bulk-changes', { headers: from('198.51.101.91') });
    assert.equal(holder.status, 200, 'the admin key itself still works');
  });

  it('throttles portal sign-ins and carrier callbacks the same way', async () => {
    const headers = from('192.0.2.50');
    for (let attempt = 0; attempt < 5; attempt++) {
      const form = await signInForm(test.url, headers);
      const refused = await postSignIn(test.url, { apiKey: `bck_nope${attempt}nope`, ...form }, headers);
      assert.equal(refused.status, 401);
    }
    const form = await signInForm(test.url, headers);
    const throttled = await postSignIn(test.url, { apiKey: test.adminKey, ...form }, headers);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);

    const callbackHeaders = {
      ...from('192.0.2.60'),
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push(
        (
          await test.api('POST', '/callbacks/thingspace/no-such-account', {
            key: null,
            body: {},
            headers: callbackHeaders,
          })
        ).status,
      );
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });
});

describe('portal sign-in: login CSRF and Secure cookies', () => {
  let plain: TestService;
  let proxied: TestService;
  let published: TestService;
  before(async () => {
    plain = await startTestService('sqlite');
    proxied = await startTestService('sqlite', { BULKCHANGE_TRUST_PROXY: 'loopback' });
    published = await startTestService('sqlite', { BULKCHANGE_PUBLIC_URL: 'https://bulkchange.example.com' });
  });
  after(async () => {
    await Promise.all([plain.stop(), proxied.stop(), published.stop()]);
  });

  it('refuses a sign-in form without the token of its own cookie', async () => {
    const form = await signInForm(plain.url);
    const other = await signInForm(plain.url);
    for (const attempt of [
      { apiKey: plain.adminKey },
      { apiKey: plain.adminKey, token: form.token },
      { apiKey: plain.adminKey, cookie: form.cookie },
      { apiKey: plain.adminKey, token: form.token, cookie: other.cookie },
      { apiKey: plain.adminKey, token: 'x'.repeat(43), cookie: 'bulkchange_sign_in=%E0' },
    ]) {
      const refused = await postSignIn(plain.url, attempt);
      assert.equal(refused.status, 403, JSON.stringify(attempt));
      assert.equal(cookieValue(setCookies(refused), 'bulkchange_session'), undefined, 'no session');
      assert.match(await refused.text(), /expired or came from another site/);
    }
    const { response } = await portalSession(plain.url, plain.adminKey);
    assert.equal(response.headers.get('location'), '/portal/overview');
  });

  it('sets Secure only when the portal is reached over https: its public URL, or a trusted proxy', async () => {
    const secure = (cookies: string) => /;\s*Secure/i.test(cookies);
    const tls = { 'x-forwarded-proto': 'https' };
    assert.ok(
      !secure((await signInForm(plain.url, tls)).setCookie),
      'an untrusted X-Forwarded-Proto is ignored',
    );
    assert.ok(
      !secure((await portalSession(plain.url, plain.adminKey, tls)).response.headers.getSetCookie().join()),
    );
    assert.ok(!secure((await signInForm(proxied.url)).setCookie), 'plain http through the proxy');
    assert.ok(secure((await signInForm(proxied.url, tls)).setCookie));
    const behindProxy = await portalSession(proxied.url, proxied.adminKey, tls);
    assert.ok(secure(behindProxy.response.headers.getSetCookie().join()));
    // The service announces its public URL; it listens here.
    const { port } = published.service.app!.server.address() as AddressInfo;
    const viaPublicUrl = await portalSession(`http://127.0.0.1:${port}`, published.adminKey);
    assert.ok(secure(viaPublicUrl.response.headers.getSetCookie().join()));
    for (const cookie of viaPublicUrl.response.headers.getSetCookie())
      assert.match(cookie, /HttpOnly; SameSite=Strict/);
  });
});

describe('data files and simulator admin answers hold no readable secrets', () => {
  let test: TestService;
  before(async () => {
    test = await startTestService('sqlite');
  });
  after(() => test.stop());

  it('creates the database (and its -wal and -shm) and the encryption key owner-only', async () => {
    const database = test.service.database.location;
    const files = [
      database,
      `${database}-wal`,
      `${database}-shm`,
      path.join(path.dirname(database), 'encryption.key'),
    ];
    for (const file of files) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  });

  it("never shows ThingSpace's callback credentials in its simulator's admin answers", async () => {
    const simulator = createThingSpaceSimulator({ activationDelayMs: 100, actionDelayMs: 50 });
    const simulatorUrl = await test.serveSimulator(simulator);
    const accountId = await thingSpaceAccountFixture(test, {
      baseUrl: simulatorUrl,
      accountName: simulator.accountName,
      callbackPassword: 'callback-secret-1',
      limits: { requestsPerSecond: null, maxConcurrent: 4, checkIntervalMs: 250, maxWaitMs: 20_000 },
    });
    const iccids = testIccids(2, '8901777');
    await simAdmin(simulatorUrl).seed(iccids.map((iccid) => ({ iccid, state: 'pre-active' })));
    await insertLines(
      test,
      accountId,
      iccids.map((iccid) => ({ iccid, status: 'inventory', carrierStatus: 'pre-active' })),
    );
    const id = await submitChange(
      test,
      accountId,
      iccids.map((iccid) => ({ iccid })),
      'status_update',
      {
        targetStatus: 'active',
      },
    );
    assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
    const answer = await fetch(`${simulatorUrl}/_sim/callbacks`);
    const text = await answer.text();
    const deliveries = JSON.parse(text) as Array<{ body: Record<string, unknown> }>;
    assert.ok(deliveries.length >= 2, text);
    assert.ok(deliveries.every((delivery) => delivery.body.password === '[REDACTED]'));
    assert.doesNotMatch(text, /callback-secret-1/);
  });
});
