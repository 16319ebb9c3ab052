import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noChromium, openPortal, portalSuite, signIn } from './browser.ts';

type Site = { id: string; name: string; isDefault: boolean; zipCode: string; contactLastName: string | null };

describe('the portal: sites', { skip: noChromium }, () => {
  const suite = portalSuite();

  it('adds sites, refuses a bad one, makes another the default and deletes one; viewers only read', async () => {
    const { test, browser } = suite;
    const { page, errors } = await openPortal(browser, test.url);
    page.on('dialog', (dialog) => dialog.accept());
    await signIn(page, test.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sites' }).click();
    await page.waitForURL(/\/portal\/sites$/);
    assert.match(await page.locator('main').innerText(), /No site yet/);

    const add = async (fields: Record<string, string>, isDefault = false) => {
      for (const [label, value] of Object.entries(fields))
        await page.getByLabel(label, { exact: true }).fill(value);
      if (isDefault) await page.getByLabel(/^Default site/).check();
      await page.getByRole('button', { name: 'Add site' }).click();
    };
    const address = { Address: '1 Main St', City: 'Wenatchee', State: 'WA' };
    await add({ Name: 'Head office', 'Contact last name': 'Prefect', ...address, 'ZIP code': '98801' }, true);
    await page.waitForURL(/\/portal\/sites$/);
    await add({ Name: 'Depot', ...address, 'ZIP code': '97001' });
    await page.waitForURL(/\/portal\/sites$/);
    await add({ Name: 'Nowhere', ...address, 'ZIP code': '!' });
    assert.match(await page.getByRole('alert').innerText(), /zipCode/);

    const sites = async () => (await test.api<{ items: Site[] }>('GET', '/api/v1/sites')).body.items;
    assert.deepEqual(
      (await sites()).map((site) => [site.name, site.isDefault, site.zipCode]),
      [
        ['Depot', false, '97001'],
        ['Head office', true, '98801'],
      ],
    );
    assert.equal((await sites()).find((site) => site.name === 'Head office')?.contactLastName, 'Prefect');

    await page.goto('/portal/sites');
    const table = page.getByRole('region', { name: 'Sites' });
    await table.getByRole('button', { name: 'Make default' }).click();
    await page.waitForURL(/\/portal\/sites$/);
    assert.deepEqual(
      (await sites()).map((site) => [site.name, site.isDefault]),
      [
        ['Depot', true],
        ['Head office', false],
      ],
    );
    await page
      .getByRole('row', { name: /Head office/ })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.waitForURL(/\/portal\/sites$/);
    assert.deepEqual(
      (await sites()).map((site) => site.name),
      ['Depot'],
    );
    assert.deepEqual(
      errors.filter((error) => !/status of 422/.test(error)),
      [],
    );

    const audited = await test.api<{ items: Array<{ action: string }> }>('GET', '/api/v1/audit?limit=1000');
    const actions = audited.body.items.map((entry) => entry.action);
    for (const action of ['site.create', 'site.update', 'site.delete'])
      assert.ok(actions.includes(action), action);

    const viewer = await openPortal(browser, test.url);
    await signIn(viewer.page, await test.keyFor('acme', 'viewer'));
    await viewer.page.goto('/portal/sites');
    assert.match(await viewer.page.locator('main').innerText(), /Depot/);
    assert.equal(await viewer.page.getByRole('button', { name: 'Add site' }).count(), 0);
  });
});
