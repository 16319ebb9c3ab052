import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture, waitForFinish } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

describe('the portal: a reconciliation’s drift report and its fix', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('reconciles an account, lists the drift, downloads it as CSV and turns it into a bulk change that clears it', async () => {
    const { test, browser } = suite;
    const lines = await jasperFixture(test, { count: 3, state: 'ACTIVATED', prefix: '8901725' });
    const [, drifted] = lines.iccids;
    // Out of band, at the carrier: one line deactivated.
    await simAdmin(lines.simulatorUrl).seed([{ iccid: drifted, state: 'DEACTIVATED' }]);
    const account = await test.api<{ name: string }>('GET', `/api/v1/carrier-accounts/${lines.accountId}`);

    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Reconciliation' })
      .click();
    await page.getByLabel('Carrier account').selectOption({ label: account.body.name });
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.waitForURL(/\/portal\/reconciliations\/[^/]+$/);
    for (let tries = 0; tries < 100; tries++) {
      if (
        (await page.locator('[data-reconciliation-status]').innerText()).toLowerCase().includes('completed')
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
    assert.equal(await page.locator('[data-drift-count]').innerText(), '1');
    const drifts = page.getByRole('region', { name: 'Drifts' });
    const row = drifts.locator('tbody tr');
    assert.equal(await row.count(), 1);
    assert.match(
      await row.innerText(),
      new RegExp(`Status differs[\\s\\S]*${drifted}[\\s\\S]*deactivated[\\s\\S]*active`),
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the drifts (CSV)' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv.length, 2);
    assert.match(csv[1], new RegExp(`status_differs,${drifted},`));

    await drifts.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Preview fix' }).click();
    await page.getByRole('heading', { name: 'Fix preview' }).waitFor();
    assert.match(
      await page.locator('[data-fix-changes]').innerText(),
      /Status update: 1 rows, 1 would go, 0 would be refused/,
    );
    await page.getByRole('button', { name: 'Propose fix' }).click();
    await page.getByRole('heading', { name: 'Fix proposed' }).waitFor();
    const link = page.locator('a[data-fix-change]');
    const bulkChangeId = (await link.getAttribute('href'))!.split('/').pop()!;
    assert.equal((await waitForFinish(test, bulkChangeId, 30_000)).status, 'completed');
    await link.click();
    await page.waitForURL(new RegExp(`/portal/bulk-changes/${bulkChangeId}$`));

    // Reconciled again: nothing left.
    await page.goto('/portal/reconciliations');
    await page.getByLabel('Carrier account').selectOption({ label: account.body.name });
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.waitForURL(/\/portal\/reconciliations\/[^/]+$/);
    for (let tries = 0; tries < 100; tries++) {
      if (
        (await page.locator('[data-reconciliation-status]').innerText()).toLowerCase().includes('completed')
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
    assert.equal(await page.locator('[data-drift-count]').innerText(), '0');
    assert.match(await page.locator('main').innerText(), /No drift/);
    assert.deepEqual(errors, []);
  });
});
