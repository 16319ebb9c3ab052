import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { passwordSession, portalSession } from './support/portal-session.ts';
import { runCli } from './support/processes.ts';
import {
  jasperFixture,
  serviceForSuite,
  startTestService,
  type TestService,
  testIccid,
} from './support/service.ts';

interface UserView {
  id: string;
  email: string;
  name: string;
  role: string;
  modules: string[] | null;
  lastSignInAt: string | null;
  disabledAt: string | null;
}
type Problem = { error: { code: string; message: string; details: Array<{ field: string; code: string }> } };
type AuditItem = { actor: string; action: string; response: Record<string, unknown> };

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** A portal page fetched with a session cookie, redirects not followed. */
const portalGet = (test: TestService, cookie: string, path: string) =>
  fetch(`${test.url}${path}`, { headers: { cookie }, redirect: 'manual' });

/** A portal form post with the session's CSRF token, read from the page at `from`. */
async function portalPost(
  test: TestService,
  cookie: string,
  from: string,
  path: string,
  fields: Record<string, string> = {},
) {
  const page = await (await portalGet(test, cookie, from)).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(token, `${from} carries the session's token`);
  return fetch(`${test.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, _csrf: token }).toString(),
  });
}

for (const dialect of testDialects) {
  describe(`Portal users on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    const addUser = (body: Record<string, unknown>, key?: string) =>
      test.api<UserView & Problem>('POST', '/api/v1/users', { body, key });
    const audit = async (query: string) =>
      (await test.api<{ items: AuditItem[] }>('GET', `/api/v1/audit?${query}`)).body.items;

    it('lets an admin add, list and change users; the password is kept as a salted scrypt hash only', async () => {
      const password = 'correct horse battery staple';
      const created = await addUser({
        email: 'Ada@Acme.test',
        name: 'Ada Lovelace',
        role: 'operator',
        password,
        modules: ['m2m'],
      });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(
        [created.body.email, created.body.role, created.body.modules, created.body.lastSignInAt],
        ['ada@acme.test', 'operator', ['m2m'], null],
      );
      assert.ok(!created.text.includes(password) && !created.text.includes('scrypt'), created.text);

      const stored = await test.service.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.match(stored.password_hash, /^scrypt\$15\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
      const again = await addUser({ email: 'other@acme.test', name: 'Other', role: 'viewer', password });
      const otherHash = await test.service.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', again.body.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(otherHash.password_hash.split('$')[4], stored.password_hash.split('$')[4], 'salted');

      const taken = await addUser({ email: 'ADA@acme.TEST', name: 'Ada 2', role: 'viewer', password });
      assert.equal(taken.status, 409, taken.text);
      assert.equal(taken.body.error.code, 'EMAIL_TAKEN');
      const weak = await addUser({
        email: 'bob@acme.test',
        name: 'Bob',
        role: 'approver',
        password: 'short',
      });
      assert.equal(weak.status, 422, weak.text);
      assert.deepEqual(
        weak.body.error.details.map((detail) => [detail.field, detail.code]),
        [['password', 'INVALID_FIELD']],
      );
      const badModule = await addUser({
        email: 'bob@acme.test',
        name: 'Bob',
        role: 'operator',
        password,
        modules: ['lnp'],
      });
      assert.equal(badModule.status, 422, badModule.text);
      const operatorKey = await test.keyFor('acme', 'operator');
      assert.equal(
        (await addUser({ email: 'c@acme.test', name: 'C', role: 'admin', password }, operatorKey)).status,
        403,
      );
      const foreignAdmin = await test.keyFor('globex', 'admin');
      const foreign = await test.api('GET', `/api/v1/users/${created.body.id}`, { key: foreignAdmin });
      assert.equal(foreign.status, 404, 'another tenant does not see the user');

      const listed = await test.api<{ items: UserView[] }>('GET', '/api/v1/users');
      assert.deepEqual(
        listed.body.items.map((user) => user.email),
        ['ada@acme.test', 'other@acme.test'],
      );
      const promoted = await test.api<UserView>('PATCH', `/api/v1/users/${created.body.id}`, {
        body: { role: 'approver', modules: null, password: 'another long password' },
      });
      assert.equal(promoted.status, 200, promoted.text);
      assert.deepEqual([promoted.body.role, promoted.body.modules], ['approver', null]);

      const [creation] = await audit('action=user.create&limit=1');
      const [update] = await audit('action=user.update');
      assert.match(creation.actor, /^key:/);
      assert.deepEqual(update.response.after, { role: 'approver', modules: null, password: 'replaced' });
      const everything = JSON.stringify(await audit('limit=200'));
      assert.ok(
        !everything.includes(password) && !everything.includes('scrypt$'),
        'no password in the audit log',
      );
    });

    it("lets an admin change a user's role and modules on the portal's Users page, audited", async () => {
      const dan = await addUser({
        email: 'dan@acme.test',
        name: 'Dan',
        role: 'viewer',
        password: 'dan has a password',
      });
      assert.equal(dan.status, 201, dan.text);
      const admin = await portalSession(test.url, test.adminKey);
      const page = await (await portalGet(test, admin.cookie, '/portal/users')).text();
      assert.match(page, /<tr role="row" data-user="dan@acme\.test">/);
      const refused = await portalPost(test, admin.cookie, '/portal/users', `/portal/users/${dan.body.id}`, {
        role: 'root',
      });
      assert.equal(refused.status, 422);
      const saved = await portalPost(test, admin.cookie, '/portal/users', `/portal/users/${dan.body.id}`, {
        role: 'operator',
        'module:mobility': 'on',
      });
      assert.equal(saved.status, 303, await saved.text());
      const after = await test.api<UserView>('GET', `/api/v1/users/${dan.body.id}`);
      assert.deepEqual([after.body.role, after.body.modules], ['operator', ['mobility']]);
      const entry = (await audit('action=user.update')).at(-1)!;
      assert.match(entry.actor, /^key:/);
      assert.deepEqual(entry.response.after, { role: 'operator', modules: ['mobility'] });
    });

    it('signs a user in with e-mail and password, attributes what they do to them, keeps them to their modules and ends their session when disabled', async () => {
      const password = 'a password of some length';
      const bea = await addUser({
        email: 'bea@acme.test',
        name: 'Bea',
        role: 'operator',
        password,
        modules: ['m2m'],
      });
      assert.equal(bea.status, 201, bea.text);

      const wrong = await passwordSession(test.url, { email: 'bea@acme.test', password: 'not her password' });
      assert.equal(wrong.response.status, 401);
      assert.equal(wrong.cookie, undefined);
      assert.match(await wrong.response.text(), /do not match an enabled user/);
      const nobody = await passwordSession(test.url, { email: 'nobody@acme.test', password });
      assert.equal(nobody.response.status, 401, 'an unknown address gets the same answer');

      const signedIn = await passwordSession(test.url, { email: ' BEA@acme.test', password });
      assert.equal(signedIn.response.status, 303);
      const cookie = signedIn.cookie!;
      const home = await portalGet(test, cookie, '/portal/bulk-changes');
      assert.equal(home.status, 200);
      assert.match(await home.text(), /<strong>Bea<\/strong> · operator · acme/);
      const [signIn] = await audit('action=user.sign_in&limit=1');
      assert.equal(signIn.actor, `user:${bea.body.id}`);
      assert.notEqual(
        (await test.api<UserView>('GET', `/api/v1/users/${bea.body.id}`)).body.lastSignInAt,
        null,
      );

      // Her act, through the portal: cancelling a scheduled M2M (Jasper) change.
      const jasper = await jasperFixture(test, { count: 1, prefix: '8901640' });
      const scheduled = await submitChange(
        test,
        jasper.accountId,
        byIccid(jasper.iccids),
        'status_update',
        { targetStatus: 'active' },
        { scheduledFor: inAnHour() },
      );
      const cancelled = await portalPost(
        test,
        cookie,
        `/portal/bulk-changes/${scheduled}`,
        `/portal/bulk-changes/${scheduled}/cancel`,
      );
      assert.equal(cancelled.status, 303, await cancelled.text());
      const [cancel] = await audit(`action=bulk_change.cancel&bulkChangeId=${scheduled}`);
      assert.equal(cancel.actor, `user:${bea.body.id}`);
      assert.deepEqual(cancel.response.actor, {
        userId: bea.body.id,
        email: 'bea@acme.test',
        name: 'Bea',
        role: 'operator',
      });

      // A Mobility (Telegence) change is not hers to touch, and its account is not offered to her.
      const telegence = await carrierAccountFixture(test, {
        carrier: 'telegence',
        baseUrl: 'http://127.0.0.1:9',
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
      });
      const msisdn = '3125550164';
      await insertLines(test, telegence, [
        { iccid: testIccid(1, '8901641'), msisdn, status: 'active', carrierStatus: 'A' },
      ]);
      const mobility = await submitChange(
        test,
        telegence,
        [{ msisdn }],
        'status_update',
        { targetStatus: 'suspended', reasonCode: 'CUST_REQ' },
        { scheduledFor: inAnHour() },
      );
      const detail = await (await portalGet(test, cookie, `/portal/bulk-changes/${mobility}`)).text();
      assert.doesNotMatch(detail, />Cancel</, 'no Cancel button on a change outside her modules');
      const refused = await portalPost(
        test,
        cookie,
        `/portal/bulk-changes/${scheduled}`,
        `/portal/bulk-changes/${mobility}/cancel`,
      );
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /mobility module, which you do not have/);
      assert.equal(
        (await test.api<{ status: string }>('GET', `/api/v1/bulk-changes/${mobility}`)).body.status,
        'scheduled',
      );
      const form = await portalGet(test, cookie, `/portal/bulk-changes/new?carrierAccountId=${telegence}`);
      assert.equal(form.status, 403);
      const offered = await (await portalGet(test, cookie, '/portal/bulk-changes/new')).text();
      assert.ok(
        offered.includes(jasper.accountId) && !offered.includes(telegence),
        'only M2M accounts are offered',
      );

      // Disabled: her session ends at its next request and her password no longer signs in.
      const disabled = await test.api<UserView>('PATCH', `/api/v1/users/${bea.body.id}`, {
        body: { disabled: true },
      });
      assert.notEqual(disabled.body.disabledAt, null);
      const after = await portalGet(test, cookie, '/portal/bulk-changes');
      assert.equal(after.status, 303);
      assert.match(after.headers.get('location') ?? '', /\/portal\/sign-in/);
      assert.equal(
        (await passwordSession(test.url, { email: 'bea@acme.test', password })).response.status,
        401,
      );
    });

    it('makes the first user from the CLI, the password from standard input; lists and disables them', async () => {
      const password = 'first user password';
      const add = (email: string, input: string, extra: string[] = []) =>
        runCli(
          ['users', 'add', '--tenant', 'acme', '--email', email, '--role', 'admin', ...extra],
          test.storeEnv,
          120_000,
          input,
        );
      const short = await add('root@acme.test', 'short\n');
      assert.equal(short.code, 2);
      assert.match(short.stderr, /--password: A password has at least 12 characters/);
      const added = await add('root@acme.test', `${password}\n`, ['--name', 'Root', '--modules', 'mobility']);
      assert.equal(added.code, 0, added.stderr);
      const id = /^Added (\S+) root@acme\.test \(admin, modules: mobility\)$/m.exec(added.stdout)?.[1];
      assert.ok(id, added.stdout);
      assert.equal((await add('ROOT@acme.test', `${password}\n`)).code, 2, 'the address is taken');

      const signedIn = await passwordSession(test.url, { email: 'root@acme.test', password });
      assert.equal(signedIn.response.status, 303);
      const listed = await runCli(['users', 'list', '--tenant', 'acme'], test.storeEnv, 120_000);
      assert.equal(listed.code, 0, listed.stderr);
      const [header, ...lines] = listed.stdout.trim().split('\n');
      assert.match(header, /^ID\s+EMAIL\s+ROLE\s+MODULES\s+LAST SIGN-IN\s+STATE\s+NAME$/);
      const line = lines.find((candidate) => candidate.startsWith(id))!;
      assert.match(line, /root@acme\.test\s+admin\s+mobility\s+\d{4}-\S+\s+enabled\s+Root$/);

      const disabled = await runCli(['users', 'disable', id], test.storeEnv, 120_000);
      assert.equal(disabled.code, 0, disabled.stderr);
      const after = await portalGet(test, signedIn.cookie!, '/portal/bulk-changes');
      assert.equal(after.status, 303, 'the session ended with the user');
      const entry = (await audit('action=user.update')).at(-1)!;
      assert.deepEqual([entry.actor, entry.response.after], ['cli', { disabled: true }]);
    });
  });
}

describe('password sign-in is throttled per address and per account', () => {
  let test: TestService;
  before(async () => {
    test = await startTestService('sqlite', {
      AUTH_FAILURES_PER_MINUTE: '3',
      BULKCHANGE_TRUST_PROXY: 'true',
    });
  });
  after(() => test.stop());
  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('closes a guessed account to every address for the minute, its right password included; other accounts still sign in', async () => {
    const password = 'the right password';
    for (const email of ['guessed@acme.test', 'bystander@acme.test']) {
      const created = await test.api('POST', '/api/v1/users', {
        body: { email, name: email, role: 'viewer', password },
      });
      assert.equal(created.status, 201, created.text);
    }
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const guess = await passwordSession(
        test.url,
        { email: 'guessed@acme.test', password: `guess ${attempt}` },
        from(`198.51.100.${attempt}`),
      );
      statuses.push(guess.response.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    const owner = await passwordSession(
      test.url,
      { email: 'guessed@acme.test', password },
      from('198.51.100.50'),
    );
    assert.equal(owner.response.status, 429);
    assert.ok(Number(owner.response.headers.get('retry-after')) > 0);
    const bystander = await passwordSession(
      test.url,
      { email: 'bystander@acme.test', password },
      from('198.51.100.51'),
    );
    assert.equal(bystander.response.status, 303, 'another account is not affected');
  });
});
