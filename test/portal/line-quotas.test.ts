import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { waitForFinish } from '../support/service.ts';
import { thingSpaceLines } from '../support/thingspace-lines.ts';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

describe('the portal: rows waiting for a carrier line quota', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('previews a row whose line used its 5 ThingSpace actions today as waiting until the next UTC day, and shows it so once created', async () => {
    const { test, browser } = suite;
    const lines = await thingSpaceLines(test, { prefix: '8901474', count: 2, state: 'active' });
    const [spent, fresh] = lines.iccids;
    for (const targetStatus of ['suspended', 'active', 'suspended', 'active', 'suspended']) {
      const id = await submitChange(test, lines.accountId, byIccid([spent]), 'status_update', {
        targetStatus,
      });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
    }
    const now = new Date();
    const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
    const shown = `${tomorrow.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/bulk-changes/new?carrierAccountId=${lines.accountId}&changeType=status_update`);
    await page.getByLabel(/paste ICCIDs/).fill(`${spent}\n${fresh}`);
    await page.getByLabel('Target status').selectOption('active');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/preview\//);

    // The other line is active already: the portal leaves it out.
    assert.match(await page.locator('[data-preview-summary]').innerText(), /1\s+will succeed\s+1\s+already/);
    assert.equal(
      await page.locator('[data-preview-waiting]').innerText(),
      `1 row waits (carrier line quota or effective date); the last goes no earlier than ${shown}.`,
    );
    // With no failing row, the rows that will succeed are open already.
    const waitingRow = page.getByRole('row').filter({ hasText: 'ThingSpace allows 5 provisioning actions' });
    assert.match(await waitingRow.innerText(), new RegExp(`${shown}.*this line has had 5 this day`));

    await page.getByRole('button', { name: /^Submit 1 row/ }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    const spentRow = page.getByRole('row').filter({ hasText: spent });
    assert.match(await spentRow.innerText(), new RegExp(shown));
    assert.deepEqual(errors, []);
  });
});
