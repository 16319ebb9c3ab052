import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal: approvals (four eyes)', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('shows a held change as awaiting approval, refuses its creator the buttons, and lets a second approver approve it', async () => {
    const { test, browser } = suite;
    // An admin sets the tenant's policy on the Guardrails page.
    const creator = await openPortal(browser, test.url);
    await signIn(creator.page, test.adminKey);
    await creator.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Guardrails' })
      .click();
    await creator.page.getByLabel(/Hold destructive changes of more lines than this/).fill('10');
    await creator.page.getByRole('button', { name: 'Save guardrails' }).click();
    assert.match(
      await creator.page.locator('[data-policy-summary]').innerText(),
      /Now: approval above 10 lines; no cap/,
    );
    const fixture = await jasperFixture(test, { count: 25, prefix: '8901604', state: 'ACTIVATED' });
    const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
      targetStatus: 'deactivated',
    });

    // Its creator (the admin key) sees why it waits, and no way to approve it.
    await creator.page.goto('/portal/bulk-changes?status=awaiting_approval');
    // Listed (its row links to it by its name and its progress).
    assert.ok((await creator.page.locator(`a[href="/portal/bulk-changes/${id}"]`).count()) >= 1);
    await creator.page.goto(`/portal/bulk-changes/${id}`);
    await waitForBulkStatus(creator.page, /Awaiting approval/);
    assert.match(
      await creator.page.locator('[data-approval="awaiting"]').innerText(),
      /Awaiting approval since .*deactivate 25 lines, more than the 10/,
    );
    assert.equal(await creator.page.getByRole('button', { name: 'Approve' }).count(), 0);
    assert.equal(await creator.page.getByRole('button', { name: 'Pause' }).count(), 0);
    assert.match(await creator.page.locator('[data-own-change]').innerText(), /You created this change/);
    assert.deepEqual(await simAdmin(fixture.simulatorUrl).calls('put_device'), [], 'nothing sent');

    // A second key with the approver role approves it, with a note; it runs to the end.
    const approver = await openPortal(browser, test.url);
    await signIn(approver.page, await test.keyFor('acme', 'approver'));
    await approver.page.goto(`/portal/bulk-changes/${id}`);
    await approver.page.getByLabel('Note (required to reject)').fill('fleet owner agreed');
    await approver.page.getByRole('button', { name: 'Approve' }).click();
    await waitForBulkStatus(approver.page, /Completed/);
    await approver.page.reload();
    assert.match(
      await approver.page.locator('[data-approval="approved"]').innerText(),
      /Approved by .+ at .*Note: “fleet owner agreed”/,
    );
    assert.equal(await approver.page.locator('dd[data-count="succeeded"]').innerText(), '25');
    assert.equal(await approver.page.getByRole('button', { name: 'Approve' }).count(), 0);
    assert.deepEqual(creator.errors, []);
    assert.deepEqual(approver.errors, []);
  });
});
