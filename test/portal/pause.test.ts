import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
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
