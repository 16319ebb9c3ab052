import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { XLSX_CONTENT_TYPE } from '../../src/bulk-changes/upload-input.ts';
import { byIccid, postChange } from '../support/bulk-changes.ts';
import { jasperFixture, waitForFinish } from '../support/service.ts';
import { xlsxFile, xlsxRows } from '../support/xlsx.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

describe('the portal round trip: export for editing, upload back only what differs', {
  skip: noChromium,
}, () => {
  const suite = portalSuite();

  it('downloads the filtered lines with current_ and desired columns; the edited workbook previews and sends only the edited lines', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 10, prefix: '8901721' });
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);
    await page.goto(`/portal/devices?carrierAccountId=${fixture.accountId}`);
    const exportForm = page.getByRole('form', { name: 'Export for editing' });
    await exportForm.getByLabel('Change to edit').selectOption('status_update');
    await exportForm.getByLabel('Format').selectOption('xlsx');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportForm.getByRole('button', { name: 'Export for editing' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'status_update-lines.xlsx');
    const { rows } = await xlsxRows(readFileSync(await download.path()));
    const [header, ...lines] = rows as string[][];
    assert.deepEqual(header, ['iccid', 'current_status', 'target_status']);
    assert.deepEqual(lines.map((line) => line[0]).sort(), [...fixture.iccids].sort());
    assert.ok(lines.every((line) => line[1] === 'activation_ready' && line[2] === 'activation_ready'));

    // Meanwhile someone moves lines 1 and 4 to test_ready: row 2 is left as exported (it must not move
    // its line back), row 5 is edited to active over the other change (sent, with a note).
    const meanwhile = await postChange(
      test,
      fixture.accountId,
      byIccid([lines[1][0], lines[4][0]]),
      'status_update',
      {
        targetStatus: 'test_ready',
      },
    );
    assert.equal(meanwhile.status, 201, meanwhile.text);
    assert.equal((await waitForFinish(test, meanwhile.body.id)).status, 'completed');
    const edited = lines.map((line, index) => (index % 4 === 0 ? [line[0], line[1], 'active'] : line));
    await page.goto(
      `/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}&changeType=status_update`,
    );
    // "Send them anyway" does not send a round trip's unedited rows: the form says so beside the choice.
    assert.match(
      await page.locator('[data-round-trip-note]').innerText(),
      /exported for editing.*sends only its edited rows/,
    );
    await page.getByLabel('Send them anyway').check();
    await page.setInputFiles('#file', {
      name: 'status_update-lines.xlsx',
      mimeType: XLSX_CONTENT_TYPE,
      buffer: await xlsxFile({ Lines: [header, ...edited] }),
    });
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
    const summary = await page.locator('[data-preview-summary]').innerText();
    assert.match(summary, /3\s+will succeed/);
    assert.match(summary, /0\s+already in that state\s+7\s+not edited/);
    const noted = page.getByRole('row').filter({ hasText: lines[4][0] });
    assert.match(
      await noted.innerText(),
      /The line changed since the export: was activation_ready, now test_ready/,
    );
    await page.getByRole('button', { name: 'Submit 3 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    await waitForBulkStatus(page, /^Completed$/);
    const moved = (
      await test.api<{ items: Array<{ iccid: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fixture.accountId}&status=active`,
      )
    ).body.items.map((line) => line.iccid);
    assert.deepEqual(moved.sort(), [0, 4, 8].map((index) => lines[index][0]).sort());
    const untouched = (
      await test.api<{ items: Array<{ iccid: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fixture.accountId}&status=test_ready`,
      )
    ).body.items.map((line) => line.iccid);
    assert.deepEqual(untouched, [lines[1][0]]);
    assert.deepEqual(errors, []);
  });
});
