import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

/** `datetime-local` value for a UTC time an hour from now. */
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString().slice(0, 16);

describe('the portal: a destructive change', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('is typed to be confirmed above 10 lines, can be scheduled from pasted identifiers, and cancelled', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 12, state: 'ACTIVATED', prefix: '8901502' });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto(
      `/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}&changeType=status_update`,
    );
    await page.getByLabel(/paste ICCIDs/).fill(fixture.iccids.join('\n'));
    await page.getByLabel('Target status').selectOption('deactivated');
    await page.getByLabel('Later, at').check();
    await page.getByLabel('Start time (UTC)').fill(inAnHour());
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/preview\//);
    assert.match(await page.locator('[data-preview-summary]').innerText(), /12\s+will succeed/);

    const submit = page.getByRole('button', { name: 'Schedule 12 rows' });
    const phrase = page.getByLabel(/to confirm/);
    assert.equal(await submit.isDisabled(), true, 'nothing to submit before the phrase is typed');
    await phrase.fill('deactivate 12');
    assert.equal(await submit.isDisabled(), true);

    // The server does not rely on the script: a wrong phrase sent anyway is refused.
    await page.evaluate("document.querySelector('[data-confirm-submit]').disabled = false");
    await submit.click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').innerText(), /Type "deactivate 12 lines" exactly/);
    const listed = await test.api<{ items: unknown[] }>('GET', '/api/v1/bulk-changes');
    assert.equal(listed.body.items.length, 0, 'nothing was created');

    await page.getByLabel(/to confirm/).fill('deactivate 12 lines');
    assert.equal(await submit.isEnabled(), true);
    await submit.click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    assert.match(await page.locator('[data-bulk-status]').innerText(), /Scheduled/);
    assert.match(await page.locator('.facts').innerText(), /Scheduled for/i);

    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitForBulkStatus(page, /Cancelled/);
    assert.equal(await page.locator('dd[data-count="cancelled"]').innerText(), '12');
    assert.equal(
      await page.getByRole('button', { name: 'Cancel' }).count(),
      0,
      'a finished change cannot be cancelled',
    );

    const calls = await simAdmin(fixture.simulatorUrl).calls();
    assert.equal(calls.length, 0, 'the carrier was never called');
    // The deliberate 422 above is the only failed load.
    assert.deepEqual(
      errors.filter((error) => !/status of 422/.test(error)),
      [],
    );
  });
});
