/**
 * Screenshots of every portal page (docs/portal/*.png) and their time to first byte, on the demo.
 *
 *   node scripts/portal-screenshots.ts            # needs /usr/bin/chromium
 *
 * Starts the demo in this process on a fresh data directory, drives the portal in Chromium through a
 * realistic session (examples submitted, a CSV with bad rows previewed and run, a failed row opened),
 * then prints each page's time to first byte over 20 requests as a Markdown table.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { luhnCheckDigit } from '../src/core/identifiers.ts';
import { startService } from '../src/runtime.ts';
import { launchBrowser, openPortal, signIn, waitForBulkStatus } from '../test/portal/browser.ts';

const root = path.resolve(import.meta.dirname, '..');
const out = (name: string) => path.join(root, 'docs/portal', `${name}.png`);
const TTFB_RUNS = 20;

interface DemoFile {
  simulators: Record<string, string>;
  examples: Array<{ file: string; carrierAccountId: string; changeType: string }>;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'bulkchange-screens-'));
const service = await startService({
  config: loadConfig({ PORT: '0', BULKCHANGE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
  role: 'all',
  demo: true,
  logger: pino({ level: 'silent' }),
});
const { url, apiKey, file } = service.demo!;
const demo = JSON.parse(readFileSync(file, 'utf8')) as DemoFile;
const example = (name: string) => demo.examples.find((item) => item.file === `examples/${name}`)!;

async function submitExample(name: string): Promise<string> {
  const { carrierAccountId, changeType } = example(name);
  const response = await fetch(
    `${url}/api/v1/bulk-changes?carrierAccountId=${carrierAccountId}&changeType=${changeType}`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
      body: readFileSync(path.join(root, 'examples', name)),
    },
  );
  const body = (await response.json()) as { id: string };
  if (response.status !== 201) throw new Error(`${name}: ${JSON.stringify(body)}`);
  return body.id;
}

const browser = await launchBrowser();
const { page, context, errors } = await openPortal(browser, url);
page.setDefaultTimeout(60_000);
const shoot = (name: string, fullPage = true) => page.screenshot({ path: out(name), fullPage });

await page.goto('/portal/sign-in');
await shoot('sign-in', false);
await signIn(page, apiKey);

// History: two finished changes, one on each kind of carrier.
await submitExample('pod19-test-ready.csv');
const thingSpaceId = await submitExample('thingspace-activate.csv');

// A Jasper file with bad rows. Three lines are retired at the carrier but not in the inventory, so the
// carrier refuses them while the change runs.
const activate = readFileSync(path.join(root, 'examples/jasper-activate.csv'), 'utf8').trim().split('\n');
const header = activate[0];
const rows = activate.slice(1, 61);
const retired = rows.slice(10, 13).map((row) => row.split(',')[0]);
await fetch(`${demo.simulators.jasper}/_sim/devices`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(retired.map((iccid) => ({ iccid, state: 'RETIRED' }))),
});
const firstIccid = rows[0].split(',')[0];
const unknownLine = '890117999999999999';
const csv = [
  header,
  ...rows,
  `${firstIccid.slice(0, -1)}${(Number(firstIccid.slice(-1)) + 1) % 10},active`,
  `${unknownLine}${luhnCheckDigit(unknownLine)},active`,
  `${activate[70].split(',')[0]},flying`,
].join('\n');

const jasper = example('jasper-activate.csv');
await page.goto(
  `/portal/bulk-changes/new?carrierAccountId=${jasper.carrierAccountId}&changeType=status_update`,
);
await page.setInputFiles('#file', {
  name: 'jasper-activate-60.csv',
  mimeType: 'text/csv',
  buffer: Buffer.from(csv),
});
await shoot('new-bulk-change');
await page.getByRole('button', { name: 'Preview (dry run)' }).click();
await page.waitForURL(/\/preview\//);
const previewPath = new URL(page.url()).pathname;
await shoot('preview');
const previewTtfb = await ttfb(previewPath);

await page.getByRole('button', { name: /^Submit/ }).click();
await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
const runningPath = new URL(page.url()).pathname;
await page
  .locator('dd[data-count="succeeded"]')
  .filter({ hasText: /^[2-9]\d$/ })
  .waitFor();
await shoot('bulk-change-running', false);
await waitForBulkStatus(page, /Completed with errors/, 120_000);

// A long change left running, for the list's live progress bars.
await submitExample('jasper-deactivate.csv');
await page.goto('/portal/bulk-changes');
await page.locator('[data-status-badge].badge-processing').first().waitFor();
await page
  .locator('[data-progress-label]')
  .first()
  .filter({ hasText: /^([3-9]\d|\d{3}) \// })
  .waitFor();
await shoot('bulk-changes');
await page.goto('/portal/overview');
await shoot('overview');

await page.goto(`${runningPath}?status=failed`);
await shoot('bulk-change-done');
await page
  .getByRole('link', { name: /^Timeline of row/ })
  .first()
  .click();
await page.waitForURL(/\/rows\//);
const timelinePath = new URL(page.url()).pathname;
for (const summary of await page.locator('.payload summary').all()) await summary.click();
await shoot('row-timeline');

await page.goto(`/portal/devices?carrierAccountId=${jasper.carrierAccountId}&status=active`);
await shoot('devices', false);
await page.goto(`/portal/devices?q=${retired[0]}`);
await page.getByRole('link', { name: retired[0] }).click();
await page.waitForURL(/\/portal\/devices\/.+/);
const devicePath = new URL(page.url()).pathname;
await shoot('device');

await page.goto('/portal/carrier-accounts');
await page.waitForTimeout(2500);
await shoot('carrier-accounts');
await page.goto('/portal/carrier-accounts/new?carrier=jasper');
await shoot('new-carrier-account');

await page.setViewportSize({ width: 390, height: 844 });
await page.goto('/portal/bulk-changes');
await shoot('phone-bulk-changes', false);
await page.goto(runningPath);
await shoot('phone-bulk-change', false);

/** Time from sending the request to the response headers, in ms, with this browser's session. */
async function ttfb(pathname: string): Promise<{ median: number; max: number }> {
  const cookie = (await context.cookies()).map((item) => `${item.name}=${item.value}`).join('; ');
  const times: number[] = [];
  for (let run = 0; run < TTFB_RUNS; run++) {
    const started = performance.now();
    const response = await fetch(url + pathname, { headers: { cookie }, redirect: 'manual' });
    times.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${pathname}: ${response.status}`);
    await response.arrayBuffer();
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], max: times[times.length - 1] };
}

const measured: Array<[string, { median: number; max: number }]> = [['Preview (60 rows)', previewTtfb]];
const pages: Array<[string, string]> = [
  ['Overview', '/portal/overview'],
  ['Bulk changes', '/portal/bulk-changes'],
  [
    'Bulk changes, filtered',
    `/portal/bulk-changes?status=completed_with_errors&carrierAccountId=${jasper.carrierAccountId}`,
  ],
  ['New bulk change', `/portal/bulk-changes/new?carrierAccountId=${jasper.carrierAccountId}`],
  ['Bulk change (63 rows)', runningPath],
  ['Bulk change (2,000 rows)', `/portal/bulk-changes/${thingSpaceId}`],
  ['Bulk change, failed rows', `${runningPath}?status=failed`],
  ['Bulk change, find a line', `${runningPath}?q=${retired[0]}`],
  ['Row timeline', timelinePath],
  ['Devices', '/portal/devices'],
  ['Devices, search', `/portal/devices?q=${retired[0]}`],
  ['Devices, filtered', `/portal/devices?carrierAccountId=${jasper.carrierAccountId}&status=active`],
  ['Device', devicePath],
  ['Carrier accounts', '/portal/carrier-accounts'],
];
for (const [name, pathname] of pages) measured.push([name, await ttfb(pathname)]);

console.log(`| Page | median TTFB (ms) | slowest of ${TTFB_RUNS} (ms) |\n|---|---|---|`);
for (const [name, { median, max }] of measured)
  console.log(`| ${name} | ${median.toFixed(1)} | ${max.toFixed(1)} |`);
if (errors.length > 0) console.log('Console errors:', errors);

await browser.close();
await service.stop();
rmSync(dataDir, { recursive: true, force: true });
