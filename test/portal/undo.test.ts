import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture, waitForFinish } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal: undo', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('undoes a finished plan change from its page, through the preview, listing what it leaves alone', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, {
      count: 5,
      state: 'ACTIVATED',
      prefix: '8901487',
      unknownToCarrier: 1,
    });
    const original = await submitChange(
      test,
      fixture.accountId,
      byIccid([...fixture.iccids, ...fixture.unknownToCarrier]),
      'carrier_rate_plan_change',
      { carrierRatePlan: 'IoT 100MB' },
    );
    assert.equal((await waitForFinish(test, original, 30_000)).status, 'completed_with_errors');

    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/bulk-changes/${original}`);
    await page.getByRole('button', { name: 'Undo…' }).click();

    // The reverse is previewed like any upload: five rows back to their plan, the failed one left alone.
    await page.waitForURL(/\/portal\/bulk-changes\/preview\/[0-9a-f]{32}$/);
    assert.match(await page.locator('h1').innerText(), /Preview: undo, .*on /i);
    assert.match(
      await page.locator('[data-preview-summary]').innerText(),
      /5\s+will succeed\s+0\s+already in that state\s+0\s+will fail/,
    );
    const leftAlone = await page.locator('[data-irreversible]').innerText();
    assert.match(leftAlone, new RegExp(`6\\s+${fixture.unknownToCarrier[0]}\\s+ROW_NOT_SUCCEEDED`));
    const stillMoved = await simAdmin(fixture.simulatorUrl).devices();
    assert.ok(
      stillMoved.every((line) => line.ratePlan === 'IoT 100MB'),
      'nothing is sent before confirming',
    );

    await page.getByRole('button', { name: 'Submit 5 rows' }).click();
    await page.waitForURL(
      (url) => /\/portal\/bulk-changes\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith(original),
    );
    assert.match(await page.locator('#facts').innerText(), new RegExp(`Undo of\\s+${original}`, 'i'));
    await waitForBulkStatus(page, /Completed/);
    const back = await simAdmin(fixture.simulatorUrl).devices();
    assert.ok(
      back.every((line) => line.ratePlan === 'IoT Basic 1MB'),
      JSON.stringify(back.map((line) => line.ratePlan)),
    );

    // The original now names its undo, and offers no second one.
    await page.goto(`/portal/bulk-changes/${original}`);
    assert.match(await page.locator('#facts').innerText(), /Undone by/i);
    assert.equal(await page.getByRole('button', { name: 'Undo…' }).count(), 0);
    assert.deepEqual(errors, []);
  });
});
