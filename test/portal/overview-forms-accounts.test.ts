import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { carrierAccountsRepository } from '../../src/accounts/carrier-accounts-repository.ts';
import { createJasperSimulator } from '../../src/carriers/jasper/simulator/simulator.ts';
import { newId } from '../../src/shared/ids.ts';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { simAdmin } from '../support/processes.ts';
import { jasperFixture, testIccids, waitForFinish } from '../support/service.ts';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

type View = { id: string; name: string; counts: { total: number }; options: Record<string, unknown> };

describe('the portal: overview, the new change form, previews that skip, devices and accounts', {
  skip: noChromium,
}, () => {
  const suite = portalSuite();

  it('starts a status update by default, with pickers fed by the carrier and billing catalogs', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 2, state: 'ACTIVATED', prefix: '8901701' });
    await carrierAccountsRepository(test.service.database.db).insertRatePlans(fixture.accountId, [
      { id: newId(), code: 'M2M-1GB', name: 'M2M 1 GB', dataMb: 1024, communicationPlan: 'CP_Basic_ON' },
    ]);
    const customers = await test.api('POST', '/api/v1/billing-customers', {
      body: { items: [{ id: 'CUST-7', name: 'Acme Logistics' }] },
    });
    assert.equal(customers.status, 200, customers.text);
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto(`/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}`);
    assert.equal(await page.getByLabel('Change type', { exact: true }).inputValue(), 'status_update');
    const target = page.getByLabel('Target status');
    assert.deepEqual(
      (await target.locator('option').allInnerTexts()).slice(0, 1),
      ['— from the file —'],
      'the status is picked, not typed',
    );
    assert.ok((await target.locator('option').allInnerTexts()).includes('Deactivated'));
    assert.match(await page.getByText(/The status every line moves to/).innerText(), /status every line/);
    assert.equal(
      await page.getByLabel(/Skip them/).isChecked(),
      true,
      'lines already there are skipped by default',
    );
    // Only the fields of the chosen type: no rate plan on a status update.
    assert.equal(await page.getByLabel('Carrier rate plan').count(), 0);

    await page.getByLabel('Change type', { exact: true }).selectOption('carrier_rate_plan_change');
    await page.waitForURL(/changeType=carrier_rate_plan_change/);
    const plans = await page.getByLabel('Carrier rate plan').locator('option').allInnerTexts();
    assert.deepEqual(plans, ['— from the file —', 'M2M 1 GB (M2M-1GB)']);
    assert.equal(await page.getByLabel('Target status').count(), 0);

    await page.getByLabel('Change type', { exact: true }).selectOption('customer_assignment');
    await page.waitForURL(/changeType=customer_assignment/);
    const choices = await page.getByLabel('Billing customer id').locator('option').allInnerTexts();
    assert.deepEqual(choices, ['— from the file —', 'Acme Logistics (CUST-7)']);
    assert.deepEqual(errors, []);
  });

  it('previews current → target, flags and skips lines already there, estimates, and names the change', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, {
      count: 5,
      state: 'ACTIVATED',
      prefix: '8901702',
      limits: { requestsPerSecond: 1 },
    });
    // Two of the five are deactivated already.
    const earlier = await submitChange(
      test,
      fixture.accountId,
      byIccid(fixture.iccids.slice(0, 2)),
      'status_update',
      {
        targetStatus: 'deactivated',
      },
    );
    await waitForFinish(test, earlier);
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto(
      `/portal/bulk-changes/new?carrierAccountId=${fixture.accountId}&changeType=status_update`,
    );
    await page.getByLabel(/paste ICCIDs/).fill(fixture.iccids.join('\n'));
    await page.getByLabel('Target status').selectOption('deactivated');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/preview\//);

    const summary = await page.locator('[data-preview-summary]').innerText();
    assert.match(summary, /3\s+will succeed/);
    assert.match(summary, /2\s+already in that state/);
    assert.match(
      await page.locator('[data-preview-estimate]').innerText(),
      /At least 3 s to send: 3 requests at 1 per second/,
    );
    // The summary and Confirm are on screen without scrolling.
    const submit = page.getByRole('button', { name: 'Submit 3 rows' });
    assert.ok(await submit.isVisible());
    const viewport = page.viewportSize()!;
    const box = (await submit.boundingBox())!;
    assert.ok(
      box.y + box.height <= viewport.height,
      `Submit is at ${box.y}, below the ${viewport.height} px screen`,
    );

    await page.getByText('Show them').first().click();
    const skipped = page.getByRole('region', { name: /Rows skipped/ });
    assert.match(await skipped.innerText(), /Deactivated → Deactivated/);
    const changing = page.getByRole('region', { name: 'Rows that will succeed', exact: true });
    assert.match(await changing.innerText(), /Active → Deactivated/);

    await page.getByLabel('Name (optional)').fill('Retire the pilot fleet');
    await submit.click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Retire the pilot fleet');
    const id = page.url().split('/').pop()!;
    const finished = await waitForFinish(test, id);
    assert.equal(finished.counts.total, 3, 'the lines already there were not sent');
    const sent = (await simAdmin(fixture.simulatorUrl).calls('put_device')).flatMap((call) => call.iccids);
    assert.equal(
      sent.filter((iccid) => fixture.iccids.slice(0, 2).includes(iccid)).length,
      2,
      'once each, earlier',
    );

    // The first page shows the change by its name, and the account's health.
    await page.goto('/portal/overview');
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'What is going on');
    assert.equal(await page.locator(`[data-account-health="${fixture.accountId}"]`).count(), 1);
    await page.goto('/portal/bulk-changes');
    assert.equal(await page.getByRole('link', { name: 'Retire the pilot fleet' }).count(), 1);
    assert.deepEqual(errors, []);
  });

  it('starts a bulk change from a device filter, and exports the filtered lines as CSV', async () => {
    const { test, browser } = suite;
    const fixture = await jasperFixture(test, { count: 6, state: 'ACTIVATED', prefix: '8901703' });
    const suspended = await submitChange(
      test,
      fixture.accountId,
      byIccid(fixture.iccids.slice(0, 4)),
      'status_update',
      {
        targetStatus: 'deactivated',
      },
    );
    await waitForFinish(test, suspended);
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto('/portal/devices');
    await page.getByLabel('Carrier account', { exact: true }).selectOption(fixture.accountId);
    await page.getByLabel('Status', { exact: true }).selectOption('deactivated');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=deactivated/);
    assert.equal(await page.locator('tbody tr').count(), 4);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    assert.equal(csv[0].split(',')[0], 'iccid');
    assert.deepEqual(
      csv
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort(),
      fixture.iccids.slice(0, 4).sort(),
    );

    await page.getByRole('link', { name: 'Start a bulk change with these lines' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/new/);
    assert.match(
      await page.locator('[data-lines-from-filter]').innerText(),
      /4 lines from the devices filter \(status Deactivated\)/,
    );
    assert.deepEqual(
      (await page.getByLabel(/paste ICCIDs/).inputValue()).split('\n').sort(),
      fixture.iccids.slice(0, 4).sort(),
    );
    await page.getByLabel('Target status').selectOption('active');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.waitForURL(/\/preview\//);
    await page.getByRole('button', { name: 'Submit 4 rows' }).click();
    await page.waitForURL(/\/portal\/bulk-changes\/[0-9a-f-]{36}$/);
    const view = await test.api<View>('GET', `/api/v1/bulk-changes/${page.url().split('/').pop()}`);
    assert.equal(view.body.counts.total, 4);
    assert.equal(
      view.body.name,
      `Activate 4 lines on ${(await test.api<{ name: string }>('GET', `/api/v1/carrier-accounts/${fixture.accountId}`)).body.name}`,
    );
    assert.deepEqual(errors, []);
  });

  it('adds a carrier account, syncs its inventory and shows its limits in human units', async () => {
    const { test, browser } = suite;
    const simulator = createJasperSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });
    const simulatorUrl = await test.serveSimulator(simulator);
    const iccids = testIccids(7, '8901704');
    await simAdmin(simulatorUrl).seed(
      iccids.map((iccid) => ({ iccid, state: 'ACTIVATED', ratePlan: 'IoT Basic 1MB' })),
    );
    const { page, errors } = await openPortal(browser, test.url);
    await signIn(page, test.adminKey);

    await page.goto('/portal/carrier-accounts');
    await page.getByRole('link', { name: 'Add a carrier account' }).click();
    await page.waitForURL(/\/portal\/carrier-accounts\/new/);
    await page.getByLabel('Carrier', { exact: true }).selectOption('jasper');
    await page.getByLabel('Name', { exact: true }).fill('Fleet B (Jasper)');
    await page.getByLabel('Base URL').fill(simulatorUrl);
    await page.getByLabel('Variant').selectOption('pod19');
    await page.getByLabel('Username').fill('demo');
    await page.getByLabel('Api key').fill('demo-api-key');
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.waitForURL(/\/portal\/carrier-accounts#account-/);

    const accounts = await test.api<{
      items: Array<{ id: string; name: string; settings: Record<string, unknown>; writeEnabled: boolean }>;
    }>('GET', '/api/v1/carrier-accounts');
    const added = accounts.body.items.find((account) => account.name === 'Fleet B (Jasper)');
    assert.ok(added, 'the account was created');
    assert.equal(added.settings.variant, 'pod19');
    assert.equal(added.writeEnabled, false, 'a new account starts read-only');
    const card = page.locator(`#account-${added.id}`);
    assert.equal(await card.locator('[data-limit="requestsPerSecond"]').innerText(), '5 per second');
    assert.equal(await card.locator('[data-limit="batchSize"]').innerText(), '1 line per request');
    assert.equal(await card.locator('[data-limit="requestTimeoutMs"]').innerText(), '30 s');
    assert.equal(await card.locator('[data-limit="maxWaitMs"]').innerText(), '1 h');
    assert.match(
      (await card.getByRole('button', { name: 'Enable writes' }).getAttribute('class')) ?? '',
      /button-primary/,
    );

    await card.getByRole('button', { name: 'Sync inventory' }).click();
    await page.waitForURL(/#account-/);
    await assert.doesNotReject(async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        await page.reload();
        if (/7 lines read/.test(await card.locator('[data-inventory-sync]').innerText())) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`not synced: ${await card.locator('[data-inventory-sync]').innerText()}`);
    });
    const lines = await test.api<{ items: unknown[] }>('GET', `/api/v1/devices?carrierAccountId=${added.id}`);
    assert.equal(lines.body.items.length, 7);

    // Limits are entered in their units: a 45-second timeout is kept as 45,000 ms.
    await card.getByText('Change limits').click();
    await card.getByLabel('Request timeout (seconds)').fill('45');
    await card.getByRole('button', { name: 'Save limits' }).click();
    await page.waitForURL(/#account-/);
    assert.equal(await card.locator('[data-limit="requestTimeoutMs"]').innerText(), '45 s');
    const saved = await test.api<{ settings: { limits: Record<string, number> } }>(
      'GET',
      `/api/v1/carrier-accounts/${added.id}`,
    );
    assert.equal(saved.body.settings.limits.requestTimeoutMs, 45_000);

    // Edit: renamed, credentials kept.
    await card.getByText('Edit account').click();
    await card.getByLabel('Name', { exact: true }).fill('Fleet B');
    await card.getByRole('button', { name: 'Save account' }).click();
    await page.waitForURL(/#account-/);
    assert.equal(await page.locator(`#account-${added.id}-name`).innerText(), 'Fleet B');
    assert.match(
      (await card.getByRole('button', { name: 'Enable writes' }).getAttribute('class')) ?? '',
      /button-primary/,
    );
    assert.deepEqual(errors, []);
  });
});
