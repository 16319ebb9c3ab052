import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal: pause and resume', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('pauses a running change with a button, says why, and resumes it to the end', async () => {
    const { test, browser } = suite;
    // 15-row chunks at 5 calls a second: the pause takes effect with rows still to send.
    const fixture = await jasperFixture(test, {
      count: 60,
      prefix: '8901503',
      limits: { requestsPerSecond: 5, maxConcurrent: 1 },
    });
    const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
      targetStatus: 'active',
    });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/bulk-changes/${id}`);

    await page.getByRole('button', { name: 'Pause' }).click();
    await waitForBulkStatus(page, /Paused/);
    assert.match(await page.locator('[data-pause-reason="manual"]').innerText(), /Paused by key:/);
    assert.equal(await page.getByRole('button', { name: 'Pause' }).count(), 0);

    await page.getByRole('button', { name: 'Resume' }).click();
    await waitForBulkStatus(page, /Completed/);
    assert.equal(await page.locator('dd[data-count="succeeded"]').innerText(), '60');
    assert.equal(await page.getByRole('button', { name: 'Resume' }).count(), 0);
    assert.deepEqual(errors, []);
  });
});

describe('the portal: a canary halt', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('shows why a change halted after its first wave, with the wave figures, and cancels it', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 30, prefix: '8901504' });
    // Half the first wave's lines are retired at the carrier, which refuses them.
    await simAdmin(fixture.simulatorUrl).seed(
      fixture.iccids.slice(0, 5).map((iccid) => ({ iccid, state: 'RETIRED' })),
    );
    const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
      targetStatus: 'active',
      waves: [{ lines: 10 }],
    });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/bulk-changes/${id}`);
    await waitForBulkStatus(page, /Paused/);
    await page.reload();
    assert.match(
      await page.locator('[data-pause-reason="canary_halt"]').innerText(),
      /Canary wave 1 failed more often than allowed .*5 of 10 rows failed, above 20 %/,
    );
    const waves = await page.getByRole('region', { name: 'Finished waves' }).innerText();
    assert.match(waves, /1\s+10\s+5\s+5\s+50 %\s+Halted/);
    assert.equal(await page.locator('[data-current-wave]').innerText(), '2');

    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitForBulkStatus(page, /Cancelled/);
    assert.equal(await page.locator('dd[data-count="cancelled"]').innerText(), '20');
    assert.deepEqual(errors, []);
  });
});
