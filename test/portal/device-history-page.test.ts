import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { jasperFixture, waitForFinish } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

describe('the portal: a line’s history on its page', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('shows each change, before → after, with its bulk change, who made it and when', async () => {
    const { test, browser } = suite;
    const lines = await jasperFixture(test, { count: 1, prefix: '8901724' });
    const [iccid] = lines.iccids;
    const activate = await submitChange(test, lines.accountId, byIccid([iccid]), 'status_update', {
      targetStatus: 'active',
    });
    assert.equal((await waitForFinish(test, activate, 30_000)).status, 'completed');
    const plan = await submitChange(test, lines.accountId, byIccid([iccid]), 'carrier_rate_plan_change', {
      carrierRatePlan: 'IoT 10MB',
    });
    assert.equal((await waitForFinish(test, plan, 30_000)).status, 'completed');

    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
    await page.getByLabel('ICCID, MSISDN, EID or IMEI').fill(iccid);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: iccid }).click();
    await page.waitForURL(/\/portal\/devices\/[^/?]+$/);

    const history = page.getByRole('region', { name: 'Changes to this line, newest first' });
    const rows = history.locator('tbody tr');
    const fields = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-history-field')));
    assert.equal(fields[0], 'carrierRatePlan', 'the newest change first');
    assert.ok(fields.includes('status'));
    const planRow = await history.locator('tr[data-history-field="carrierRatePlan"]').innerText();
    assert.match(planRow, /IoT Basic 1MB\s*→\s*IoT 10MB/);
    assert.match(planRow, /Carrier rate plan change, row 1/);
    assert.match(planRow, /admin key/);
    assert.match(planRow, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    const statusRow = await history.locator('tr[data-history-field="status"]').innerText();
    assert.match(statusRow, /activation_ready\s*→\s*active/);

    // The change links to the row's timeline in its bulk change.
    await history.locator('tr[data-history-field="carrierRatePlan"]').getByRole('link').click();
    await page.waitForURL(new RegExp(`/portal/bulk-changes/${plan}/rows/`));
    assert.deepEqual(errors, []);
  });
});
