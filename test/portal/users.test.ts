import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carrierAccountFixture } from '../support/carrier-accounts.ts';
import { jasperFixture } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal: people, not only keys', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('an admin adds an M2M operator and manages keys; she signs in with her password, acts, and it is hers', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 3, prefix: '8901650' });
    const telegence = await carrierAccountFixture(test, {
      carrier: 'telegence',
      name: 'AT&T mobility',
      baseUrl: 'http://127.0.0.1:9',
      credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
    });
    const password = 'cleo has a long password';

    // The admin (signed in with the tenant's key) adds Cleo: an operator of the M2M module only.
    const admin = await openPortal(browser, test.url);
    await signIn(admin.page, test.adminKey);
    const nav = admin.page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Users' }).click();
    await admin.page.getByLabel('Name').fill('Cleo Operator');
    await admin.page.getByLabel('E-mail address').fill('cleo@acme.test');
    await admin.page.getByLabel('Role').selectOption('operator');
    await admin.page.getByLabel('Mobility (Telegence)').uncheck();
    await admin.page.getByLabel(/First password/).fill(password);
    await admin.page.getByRole('button', { name: 'Add user' }).click();
    const cleoRow = admin.page.locator('tr[data-user="cleo@acme.test"]');
    assert.match(await cleoRow.innerText(), /Cleo Operator\s+cleo@acme\.test\s+operator\s+M2M\s+—\s+enabled/);

    // Keys: listed with their last use; a named key created, shown once, then revoked.
    await nav.getByRole('link', { name: 'API keys' }).click();
    assert.doesNotMatch(
      await admin.page.locator('tr[data-key="admin key"]').innerText(),
      /never/,
      "the admin key's last use (this sign-in) is shown",
    );
    await admin.page.getByLabel(/^Name/).fill('nightly export');
    await admin.page.getByLabel('Role').selectOption('viewer');
    await admin.page.getByRole('button', { name: 'Create key' }).click();
    const key = await admin.page.locator('code.secret').innerText();
    assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key })).status, 200);
    assert.match(await admin.page.locator('tr[data-key="nightly export"]').innerText(), /viewer\s+bck_/);
    admin.page.once('dialog', (dialog) => dialog.accept());
    await admin.page.getByRole('button', { name: 'Revoke nightly export' }).click();
    await admin.page.locator('tr[data-key="nightly export"]').getByText('revoked').waitFor();
    assert.equal(await admin.page.getByRole('button', { name: 'Revoke nightly export' }).count(), 0);
    assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key })).status, 401, 'revoked at once');

    // Cleo signs in with her e-mail address and password.
    const cleo = await openPortal(browser, test.url);
    await cleo.page.goto('/portal/bulk-changes');
    await cleo.page.getByLabel('E-mail address').fill('cleo@acme.test');
    await cleo.page.getByLabel('Password', { exact: true }).fill(password);
    await cleo.page.getByRole('button', { name: 'Log in' }).click();
    await cleo.page.waitForURL(/\/portal\/bulk-changes$/);
    assert.match(await cleo.page.locator('.who').innerText(), /Cleo Operator · operator · acme/);
    assert.deepEqual(
      await cleo.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts(),
      ['Overview', 'Bulk changes', 'New bulk change', 'Devices', 'Reconciliation', 'Sites'],
    );

    // She is offered the M2M account only, and a Mobility one is refused by the server.
    await cleo.page.getByRole('link', { name: 'New bulk change' }).first().click();
    const offered = await cleo.page
      .getByLabel('Carrier account', { exact: true })
      .locator('option')
      .evaluateAll((options) => options.map((option) => option.getAttribute('value')));
    assert.deepEqual(offered, [fixture.accountId]);
    await cleo.page.setInputFiles('#file', {
      name: 'activate.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        ['ICCID,Target Status', ...fixture.iccids.map((iccid) => `${iccid},active`)].join('\n'),
      ),
    });
    await cleo.page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await cleo.page.getByRole('button', { name: 'Submit 3 rows' }).click();
    await cleo.page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    const id = cleo.page.url().split('/').at(-1)!;
    await waitForBulkStatus(cleo.page, /Completed/);
    assert.match(await cleo.page.locator('.facts').innerText(), /by Cleo Operator/);

    const refused = await cleo.page.goto(`/portal/bulk-changes/new?carrierAccountId=${telegence}`);
    assert.equal(refused?.status(), 403);
    assert.match(await cleo.page.locator('main').innerText(), /AT&T mobility" is in the mobility module/);

    // What she did is hers: the bulk change, the audit log and the line's history name her.
    const users = await test.api<{ items: Array<{ id: string; email: string }> }>('GET', '/api/v1/users');
    const cleoId = users.body.items.find((user) => user.email === 'cleo@acme.test')!.id;
    const change = await test.api<{ createdBy: string }>('GET', `/api/v1/bulk-changes/${id}`);
    assert.equal(change.body.createdBy, 'Cleo Operator');
    const created = await test.api<{ items: Array<{ actor: string; response: { actor: unknown } }> }>(
      'GET',
      `/api/v1/audit?action=bulk_change.create&bulkChangeId=${id}`,
    );
    assert.equal(created.body.items[0].actor, `user:${cleoId}`);
    assert.deepEqual(created.body.items[0].response.actor, {
      userId: cleoId,
      email: 'cleo@acme.test',
      name: 'Cleo Operator',
      role: 'operator',
    });
    const history = await test.api<{ items: Array<{ actor: { id: string; name: string } }> }>(
      'GET',
      `/api/v1/devices/${fixture.iccids[0]}/history`,
    );
    assert.deepEqual(history.body.items[0].actor, { id: `user:${cleoId}`, name: 'Cleo Operator' });

    // Disabled by the admin, she is signed out at her next page.
    admin.page.once('dialog', (dialog) => dialog.accept());
    await nav.getByRole('link', { name: 'Users' }).click();
    await admin.page.getByRole('button', { name: 'Disable cleo@acme.test' }).click();
    await admin.page.getByRole('button', { name: 'Enable cleo@acme.test' }).waitFor();
    assert.match(await cleoRow.innerText(), /disabled/);
    await cleo.page.goto('/portal/bulk-changes');
    await cleo.page.waitForURL(/\/portal\/sign-in/);
    assert.deepEqual(admin.errors, []);
    assert.deepEqual(
      cleo.errors,
      ['Failed to load resource: the server responded with a status of 403 (Forbidden)'],
      'nothing but the refused Mobility form',
    );
  });
});
