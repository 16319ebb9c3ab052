import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../support/processes.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

describe('the portal: webhooks and e-mail', { skip: noChromium }, () => {
  const suite = portalSuite();
  const receiver = new WebhookReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  it('adds an endpoint (its secret shown once), sends a test event, shows the delivery log, redelivers and rotates', async () => {
    const { test, browser } = suite;
    const { page, errors } = await openPortal(browser, test.url);
    page.on('dialog', (dialog) => dialog.accept());
    await signIn(page, test.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(/\/portal\/webhooks$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Webhooks and e-mail');

    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description').fill('operations center');
    await page.getByLabel(/Each failed row/).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.locator('code.secret').innerText();
    assert.match(secret, /^whsec_/);
    await page.goto('/portal/webhooks');
    assert.equal(await page.locator('code.secret').count(), 0, 'the secret is shown once');
    assert.match(
      await page.getByRole('region', { name: 'Webhook endpoints' }).innerText(),
      /Each failed row/,
    );

    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.waitForURL(/\/portal\/webhooks\/[^/]+$/);
    await waitUntil('the test event', async () => (receiver.received.length ? true : undefined), 10_000);
    assert.ok(WebhookReceiver.verifies(receiver.received[0], secret));
    await waitUntil(
      'the delivery logged',
      async () => {
        await page.reload();
        return (await page.getByRole('region', { name: 'Deliveries' }).innerText()).includes('Delivered')
          ? true
          : undefined;
      },
      10_000,
      200,
    );
    const log = await page.getByRole('region', { name: 'Deliveries' }).innerText();
    assert.match(log, /webhook\.test/);
    assert.match(log, /HTTP 204/);

    await page.getByRole('button', { name: 'Redeliver' }).click();
    await waitUntil(
      'the redelivery',
      async () => (receiver.received.length === 2 ? true : undefined),
      10_000,
    );
    assert.equal(receiver.received[1].event.id, receiver.received[0].event.id);

    await page.goto('/portal/webhooks');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.locator('code.secret').innerText();
    assert.notEqual(rotated, secret);

    await page.getByLabel(/^Addresses/).fill('noc@acme.test\nlead@acme.test');
    await page.getByRole('button', { name: 'Save addresses' }).click();
    await page.waitForURL(/\/portal\/webhooks$/);
    assert.equal(await page.getByLabel(/^Addresses/).inputValue(), 'noc@acme.test\nlead@acme.test');
    assert.match(await page.locator('main').innerText(), /sends no e-mail: set BULKCHANGE_SMTP_URL/);
    await page.getByLabel(/^Addresses/).fill('not-an-address');
    await page.getByRole('button', { name: 'Save addresses' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not-an-address/);

    await page.goto('/portal/webhooks');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/\/portal\/webhooks$/);
    assert.match(await page.locator('main').innerText(), /No endpoint yet/);
    // The refused addresses answered 422, as they should; nothing else went wrong on the pages.
    assert.deepEqual(
      errors.filter((error) => !/status of 422/.test(error)),
      [],
    );

    const audited = await test.api<{ items: Array<{ action: string }> }>('GET', '/api/v1/audit?limit=1000');
    const actions = audited.body.items.map((entry) => entry.action);
    for (const action of [
      'webhook.create',
      'webhook.test',
      'webhook.redeliver',
      'webhook.secret_rotated',
      'webhook.delete',
      'notification_settings.update',
    ])
      assert.ok(actions.includes(action), action);
  });

  it('is for admins only', async () => {
    const { test, browser } = suite;
    const { page } = await openPortal(browser, test.url);
    await signIn(page, await test.keyFor('acme', 'operator'));
    assert.equal((await page.goto('/portal/webhooks'))?.status(), 403);
  });
});
