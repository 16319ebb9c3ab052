import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { resultsHeader } from '../../src/bulk-changes/results-csv.ts';
import { jasperFixture } from '../support/service.ts';
import { xlsxFile, xlsxRows } from '../support/xlsx.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal with spreadsheets: an XLSX upload, results as XLSX', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('previews an uploaded workbook with its bad cells marked, runs it, and downloads the results', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 4, prefix: '8901701' });
    const [a, b, c, d] = fixture.iccids;
    const workbook = await xlsxFile({
      Lines: [
        ['ICCID', 'Target Status'],
        [a, 'active'],
        [b, 'active'],
        [c, 'active'],
        // An ICCID typed into a Number cell: its last digits are gone.
        [Number(d), 'active'],
      ],
    });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}`);
    assert.match((await page.locator('#file').getAttribute('accept')) ?? '', /\.xlsx/);
    await page.setInputFiles('#file', {
      name: 'lines.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: workbook,
    });
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
    const summary = await page.locator('[data-preview-summary]').innerText();
    assert.match(summary, /3\s+will succeed/);
    assert.match(summary, /1\s+will fail/);
    const failing = page.getByRole('region', { name: /Rows that will fail/ }).locator('tbody tr');
    assert.match(await failing.innerText(), /NUMBER_NOT_EXACT/);
    assert.match(await failing.innerText(), /Format the column as Text/);

    await page.getByRole('button', { name: 'Submit 3 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    await waitForBulkStatus(page, /^Completed$/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download results XLSX' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    const { rows } = await xlsxRows(readFileSync(await download.path()));
    assert.deepEqual(rows[0], resultsHeader);
    assert.deepEqual(
      rows.slice(1).map((row) => [row[1], row[5]]),
      [a, b, c].map((iccid) => [iccid, 'succeeded']),
    );
    assert.deepEqual(errors, []);
  });
});
