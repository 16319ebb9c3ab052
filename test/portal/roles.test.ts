import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { jasperFixture, waitForFinish } from '../support/service.ts';
import { csrfToken, noChromium, openPortal, portalSuite, signIn } from './browser.ts';

/** The elements that stick out on the right, to say what makes a page too wide. */
const TOO_WIDE = `[...document.querySelectorAll('body *')]
  .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5)
  .map((element) => element.tagName + '.' + element.className)
  .join(', ')`;

describe('the portal: sign-in and roles', { skip: noChromium }, () => {
  const suite = portalSuite();
  /** A finished bulk change with one failed row: something to retry. */
  let finishedId: string;
  before(async () => {
    const { test } = suite;
    const fixture = await jasperFixture(test, { count: 3, prefix: '8901503', unknownToCarrier: 1 });
    const lines = [...fixture.iccids, ...fixture.unknownToCarrier];
    finishedId = await submitChange(test, fixture.accountId, byIccid(lines), 'status_update', {
      targetStatus: 'active',
    });
    assert.equal((await waitForFinish(test, finishedId)).status, 'completed_with_errors');
  });

  it('shows a viewer no button it would be refused, and refuses the POST it makes anyway', async () => {
    const { test, browser } = suite;
    const { page, context } = await openPortal(browser, test.url);
    await signIn(page, await test.keyFor('acme', 'viewer'));
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), [
      'Overview',
      'Bulk changes',
      'Devices',
      'Reconciliation',
      'Sites',
    ]);
    assert.equal(await page.getByRole('link', { name: 'New bulk change' }).count(), 0);

    await page.goto(`/portal/bulk-changes/${finishedId}`);
    assert.equal(await page.getByRole('button', { name: /Retry/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Undo/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Download results CSV' }).count(), 1);

    const token = await csrfToken(page);
    const retry = await context.request.post(`/portal/bulk-changes/${finishedId}/retry`, {
      form: { _csrf: token },
      maxRedirects: 0,
    });
    assert.equal(retry.status(), 403);
    assert.match(await retry.text(), /needs the operator role/);
    const after = await test.api<{ retriedAsId: string | null }>('GET', `/api/v1/bulk-changes/${finishedId}`);
    assert.equal(after.body.retriedAsId, null, 'nothing was retried');
    const undo = await context.request.post(`/portal/bulk-changes/${finishedId}/undo`, {
      form: { _csrf: token },
      maxRedirects: 0,
    });
    assert.equal(undo.status(), 403);

    for (const path of ['/portal/bulk-changes/new', '/portal/carrier-accounts']) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 403, path);
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Not allowed');
    }
  });

  it('gives an operator the actions, but only with the session CSRF token', async () => {
    const { test, browser } = suite;
    const { page, context } = await openPortal(browser, test.url);
    await signIn(page, await test.keyFor('acme', 'operator'));
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), [
      'Overview',
      'Bulk changes',
      'New bulk change',
      'Devices',
      'Reconciliation',
      'Sites',
    ]);
    await page.goto(`/portal/bulk-changes/${finishedId}`);
    assert.equal(await page.getByRole('button', { name: 'Retry 1 failed rows' }).count(), 1);

    for (const form of [{}, { _csrf: 'forged' }] as Array<Record<string, string>>) {
      const response = await context.request.post(`/portal/bulk-changes/${finishedId}/retry`, {
        form,
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403);
      assert.match(await response.text(), /form has expired/);
    }
    await page.getByRole('button', { name: 'Retry 1 failed rows' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(finishedId));
    assert.match(await page.locator('.facts').innerText(), new RegExp(finishedId));
  });

  it('keeps the key out of the browser, signs out, and refuses a bad key or another tenant', async () => {
    const { test, browser } = suite;
    const { page, context } = await openPortal(browser, test.url);
    const key = await test.keyFor('acme', 'viewer');
    await signIn(page, key);
    const [cookie] = await context.cookies();
    assert.equal(cookie.name, 'bulkchange_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(!cookie.value.includes(key.slice(4, 20)), 'the cookie does not hold the key');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/portal\/sign-in$/);
    await page.goto(`/portal/bulk-changes/${finishedId}`);
    await page.waitForURL(/\/portal\/sign-in\?next=/);

    await page.getByLabel('API key').fill('bck_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not valid/);

    await page.getByLabel('API key').fill(await test.keyFor('globex', 'admin'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/portal/bulk-changes/${finishedId}$`));
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Not found');
  });

  it('is usable with the keyboard alone and fits a phone screen', async () => {
    const { test, browser } = suite;
    const { page, errors } = await openPortal(browser, test.url);
    await page.goto('/portal/sign-in');
    // The e-mail field has the focus; past the password and its button is the key field, where
    // typing and Enter sign in.
    assert.equal(await page.evaluate('document.activeElement.id'), 'email');
    for (let press = 0; press < 3; press++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'api-key');
    await page.keyboard.type(test.adminKey);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/overview$/);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [
      '/portal/overview',
      '/portal/bulk-changes',
      `/portal/bulk-changes/${finishedId}`,
      '/portal/bulk-changes/new',
      '/portal/devices',
      '/portal/carrier-accounts',
      '/portal/carrier-accounts/new',
      '/portal/users',
      '/portal/api-keys',
    ]) {
      await page.goto(path);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(
        overflow <= 0,
        `${path} is ${overflow}px wider than a phone: ${await page.evaluate(TOO_WIDE)}`,
      );
    }
    assert.deepEqual(errors, []);
  });
});
