import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture, testIccid } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn, waitForBulkStatus } from './browser.ts';

const PREFIX = '8901501';
const line = (index: number) => testIccid(index, PREFIX);

/** Notes each progress value the page shows, and marks the document to detect a reload. */
const WATCH_PROGRESS = `(() => {
  window.sameDocument = true;
  window.seen = [];
  setInterval(() => {
    const done = document.querySelector('[data-progress]')?.getAttribute('aria-valuenow');
    if (done && window.seen.at(-1) !== done) window.seen.push(done);
  }, 100);
})()`;

describe('the portal: upload → preview → confirm → progress → timeline → retry → results', {
  skip: noChromium,
}, () => {
  const suite = portalSuite();

  it('walks the main story in a browser, live and without console errors', async () => {
    const { test, browser } = suite;
    // Lines 0–27 are known to the inventory and the carrier; 28–30 only to the inventory, so the carrier
    // refuses them. The carrier's documented 5 calls a second keeps the run long enough to watch.
    const fixture = await jasperFixture(test, {
      count: 28,
      prefix: PREFIX,
      limits: { requestsPerSecond: 5, maxConcurrent: 1 },
      faults: { rateLimitPerSecond: 5, maxConcurrent: 1 },
      unknownToCarrier: 3,
    });
    const { unknownToCarrier } = fixture;
    const badLuhn = `${line(40).slice(0, -1)}${(Number(line(40).slice(-1)) + 1) % 10}`;
    const csv = [
      'ICCID,Target Status',
      ...[...Array.from({ length: 27 }, (_, index) => line(index)), ...unknownToCarrier].map(
        (iccid) => `${iccid},active`,
      ),
      `${line(27)},flying`,
      `${badLuhn},active`,
      `${line(41)},active`,
    ].join('\n');

    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    // New bulk change: the account, then the file.
    await page.getByRole('link', { name: 'New bulk change' }).first().click();
    await page.getByLabel('Carrier account', { exact: true }).selectOption(fixture.accountId);
    await page.waitForURL((url) => url.searchParams.get('carrierAccountId') === fixture.accountId);
    assert.equal(await page.getByLabel('Change type', { exact: true }).inputValue(), 'status_update');
    await page.setInputFiles('#file', {
      name: 'activate.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();

    // The preview separates the rows and marks the cell each failing row is refused for.
    await page.waitForURL(/\/portal\/bulk-changes\/preview\//);
    const summary = await page.locator('[data-preview-summary]').innerText();
    assert.match(summary, /30\s+will succeed/);
    assert.match(summary, /3\s+will fail/);
    const failing = page.getByRole('region', { name: /Rows that will fail/ }).locator('tbody tr');
    assert.equal(await failing.count(), 3);
    const invalid = await page.locator('td.cell-invalid').allInnerTexts();
    assert.deepEqual(invalid.sort(), [badLuhn, 'flying', line(41)].sort());
    assert.match(await failing.filter({ hasText: 'flying' }).innerText(), /INVALID_FIELD/);
    assert.match(await failing.filter({ hasText: line(41) }).innerText(), /DEVICE_NOT_FOUND/);

    // Confirm: the 30 valid rows are created, the 3 others left out.
    await page.getByRole('button', { name: 'Submit 30 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    const bulkChangeUrl = page.url();
    await page.evaluate(WATCH_PROGRESS);

    // Progress arrives by SSE: the bar moves through intermediate counts and the page is never reloaded.
    await waitForBulkStatus(page, /Completed with errors/);
    const watched = await page.evaluate<{ sameDocument?: boolean; seen: string[] }>(
      '({ sameDocument: window.sameDocument, seen: window.seen ?? [] })',
    );
    assert.equal(watched.sameDocument, true, 'the page was not reloaded');
    const seen = watched.seen.map(Number);
    assert.ok(
      seen.some((done) => done > 0 && done < 30),
      `intermediate progress was shown: ${seen.join(' → ')}`,
    );
    assert.equal(await page.locator('[data-progress]').getAttribute('aria-valuenow'), '30');
    assert.equal(await page.locator('dd[data-count="succeeded"]').innerText(), '27');
    assert.equal(await page.locator('dd[data-count="failed"]').innerText(), '3');
    assert.match(await page.locator('[data-throughput]').innerText(), /rows\/s/);
    assert.equal(await page.locator('[data-eta]').innerText(), 'done');

    // A failed row's timeline: the carrier's refusal, request and response.
    await page.getByRole('link', { name: /^Failed\s+3$/ }).click();
    const rows = page.getByRole('region', { name: 'Rows of this bulk change' }).locator('tbody tr');
    assert.equal(await rows.count(), 3);
    await page.getByRole('link', { name: 'Timeline of row 28' }).click();
    await page.waitForURL(/\/rows\//);
    const timeline = page.locator('.timeline');
    assert.match(await timeline.innerText(), /put_device on jasper · HTTP 404/);
    await timeline.getByText('Response').first().click();
    assert.match(await timeline.locator('pre').last().innerText(), /10000003/);
    assert.match(await page.locator('.facts').innerText(), /DEVICE_NOT_FOUND/);

    // The carrier learns the lines; the failed rows are retried in a new bulk change.
    await simAdmin(fixture.simulatorUrl).seed(
      unknownToCarrier.map((iccid) => ({ iccid, state: 'ACTIVATION_READY' })),
    );
    await page.goto(bulkChangeUrl);
    await page.getByRole('button', { name: 'Retry 3 failed rows' }).click();
    await page.waitForURL(
      (url) => url.href !== bulkChangeUrl && /bulk-changes\/[0-9a-f-]{36}$/.test(url.pathname),
    );
    assert.match(await page.locator('.facts').innerText(), /Retry of/i);
    await waitForBulkStatus(page, /^Completed$/);
    assert.equal(await page.locator('dd[data-count="succeeded"]').innerText(), '3');
    assert.match(await page.locator('[data-bulk-status]').innerText(), /^Completed$/);

    // The results of the first change, as a CSV download.
    await page.goto(bulkChangeUrl);
    assert.match(await page.locator('.facts').innerText(), /Failed rows retried in/i);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download results CSV' }).click(),
    ]);
    const results = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    assert.equal(
      results[0],
      'row,iccid,imei,msisdn,eid,status,error_code,error_message,carrier_code,result,calls,' +
        'new_msisdn,ip_address,previous_iccid,new_iccid,previous_imei,new_imei,target_status,rate_plan,carrier_request_id,billing_service_id',
    );
    assert.equal(results.length, 31);
    assert.equal(results.filter((row) => row.includes(',succeeded,')).length, 27);
    assert.equal(results.filter((row) => row.includes(',failed,DEVICE_NOT_FOUND,')).length, 3);

    // The account's live health counted those calls.
    await page.getByRole('link', { name: 'Carrier accounts' }).click();
    const card = page.locator(`#account-${fixture.accountId}`);
    assert.match(await card.innerText(), /of \d+ calls/);
    assert.match(await card.locator('.health').innerText(), /closed/);

    assert.deepEqual(errors, [], 'no console errors');
  });
});
