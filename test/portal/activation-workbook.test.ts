import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createTelegenceSimulator } from '../../src/carriers/telegence/simulator/simulator.ts';
import { fillWorkbook, workbookImei } from '../support/activation-workbook.ts';
import { changesOf } from '../support/bulk-changes.ts';
import { carrierAccountFixture } from '../support/carrier-accounts.ts';
import { testDialects } from '../support/databases.ts';
import { simAdmin } from '../support/processes.ts';
import { testIccid, waitForFinish } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

const BAN = '287301234567';

for (const dialect of testDialects) {
  describe(`the portal with the activation workbook on ${dialect}`, { skip: noChromium }, () => {
    const suite = portalSuite(dialect);

    it('downloads the template, shows a sheet-2 problem by sheet and row, then runs the activations and their assignment', async () => {
      const { test, browser } = suite;
      const simulatorUrl = await test.serveSimulator(
        createTelegenceSimulator({
          faults: { rateLimitPerSecond: null, maxConcurrent: null, activationStepMs: 60, ipProvisionMs: 60 },
        }),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        limits: { requestsPerSecond: null, maxConcurrent: 8, checkIntervalMs: 150, maxWaitMs: 30_000 },
      });
      const saved = await test.api('POST', '/api/v1/billing-customers', {
        body: { items: [{ id: '1001', name: 'Acme' }] },
      });
      assert.equal(saved.status, 200, saved.text);
      const iccid = (index: number) => testIccid(index, '8901871');
      const activation = (index: number) => ({
        iccid: iccid(index),
        imei: workbookImei(index),
        billing_account_number: BAN,
        rate_plan: 'APX1G5M30',
        first_name: 'Ada',
        last_name: `Line ${index}`,
        zip_code: '75001',
      });

      const { page, errors } = await openPortal(browser, test.url);
      await signIn(page, test.adminKey);
      await page.goto(
        `/portal/bulk-changes/new?carrierAccountId=${accountId}&changeType=activate_new_service`,
      );
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download the activation workbook template' }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^activation-workbook-.*\.xlsx$/);
      const template = readFileSync(await download.path());

      const upload = async (file: Buffer) => {
        await page.goto(
          `/portal/bulk-changes/new?carrierAccountId=${accountId}&changeType=activate_new_service`,
        );
        await page.setInputFiles('#file', {
          name: 'activations.xlsx',
          mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          buffer: file,
        });
        await page.getByRole('button', { name: 'Preview (dry run)' }).click();
        await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
      };

      // An assignment for a SIM the first sheet does not activate: the workbook cannot be submitted.
      await upload(
        await fillWorkbook(template, {
          Activations: [activation(0), activation(1)],
          'Customer assignment': [
            { iccid: iccid(7), billing_customer_id: '1001', use_carrier_activation: 'yes' },
          ],
        }),
      );
      const problems = page.getByRole('alert');
      assert.match(
        await problems.innerText(),
        /Sheet Customer assignment, row 1: iccid ASSIGNMENT_WITHOUT_ACTIVATION/,
      );
      assert.equal(await page.getByRole('button', { name: /^Submit/ }).count(), 0);
      await page.getByRole('link', { name: 'Fix the file and start over' }).click();

      await upload(
        await fillWorkbook(template, {
          Activations: [activation(0), activation(1)],
          'Customer assignment': [
            { iccid: iccid(1), billing_customer_id: '1001', use_carrier_activation: 'yes' },
          ],
        }),
      );
      assert.match(await page.locator('[data-preview-summary]').innerText(), /2\s+will succeed/);
      await page.getByRole('button', { name: 'Submit 2 rows' }).click();
      await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
      await waitForBulkStatus(page, /^Completed$/);
      const id = page.url().split('/').at(-1)!;

      const parent = await waitForFinish(test, id);
      const linked = await waitForFinish(test, String(parent.linkedId));
      assert.equal(linked.changeType, 'customer_assignment');
      assert.equal(linked.status, 'completed');
      assert.deepEqual(
        (await changesOf<{ row: number; iccid: string; status: string }>(test, String(parent.linkedId))).map(
          (row) => [row.row, row.iccid, row.status],
        ),
        [[2, iccid(1), 'succeeded']],
      );
      const lines = await simAdmin(simulatorUrl).devices<{ iccid: string; state: string }>();
      assert.deepEqual(
        lines.filter((line) => [iccid(0), iccid(1)].includes(line.iccid)).map((line) => line.state),
        ['A', 'A'],
      );
      const devices = await test.api<{ items: Array<{ iccid: string; billingCustomerId: string | null }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${accountId}`,
      );
      assert.deepEqual(devices.body.items.map((device) => [device.iccid, device.billingCustomerId]).sort(), [
        [iccid(0), null],
        [iccid(1), '1001'],
      ]);
      assert.deepEqual(errors, []);
    });
  });
}
