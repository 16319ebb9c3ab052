import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

type JasperLine = { iccid: string; msisdn: string | null; customFields: Record<string, string> };

describe('the portal: Jasper post-steps and usernames', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('ticks "Read msisdn" for an activation, then sets usernames from a file', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 2, prefix: '8901703' });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto(
      `/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}&changeType=status_update`,
    );
    await page.getByLabel('Read msisdn', { exact: true }).check();
    await page.setInputFiles('#file', {
      name: 'activate.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        `iccid,target_status\n${fixture.iccids.map((iccid) => `${iccid},active`).join('\n')}\n`,
      ),
    });
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
    await page.getByRole('button', { name: 'Submit 2 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    await waitForBulkStatus(page, /^Completed$/);
    const activated = await simAdmin(fixture.simulatorUrl).devices<JasperLine>();
    const devices = await test.api<{ items: Array<{ iccid: string; msisdn: string | null }> }>(
      'GET',
      `/api/v1/devices?carrierAccountId=${fixture.accountId}`,
    );
    for (const iccid of fixture.iccids) {
      const msisdn = activated.find((line) => line.iccid === iccid)?.msisdn;
      assert.ok(msisdn);
      assert.equal(devices.body.items.find((device) => device.iccid === iccid)?.msisdn, msisdn);
    }

    await page.goto(
      `/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}&changeType=username_cost_center_change`,
    );
    await page.setInputFiles('#file', {
      name: 'usernames.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`iccid,username\n${fixture.iccids[0]},fleet.ops\n${fixture.iccids[1]},yard\n`),
    });
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
    await page.getByRole('button', { name: 'Submit 2 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    await waitForBulkStatus(page, /^Completed$/);
    const named = await simAdmin(fixture.simulatorUrl).devices<JasperLine>();
    assert.deepEqual(
      fixture.iccids.map((iccid) => named.find((line) => line.iccid === iccid)?.customFields.accountCustom1),
      ['fleet.ops', 'yard'],
    );
    assert.deepEqual(errors, []);
  });
});
