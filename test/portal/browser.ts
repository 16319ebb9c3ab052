import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { serviceForSuite, type TestService } from '../support/service.ts';

/** Debian's Chromium, installed by `.ci/run`; without it the browser tests are skipped, not failed. */
export const CHROMIUM = '/usr/bin/chromium';
export const noChromium = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium)`;

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

export interface PortalSuite {
  test: TestService;
  browser: Browser;
}

/**
 * The service (SQLite, unless the suite asks for PostgreSQL) and a browser of a portal suite: started
 * before its tests, stopped after them.
 */
export function portalSuite(dialect: 'sqlite' | 'postgres' = 'sqlite'): PortalSuite {
  const suite = { test: serviceForSuite(dialect) } as PortalSuite;
  before(async () => {
    suite.browser = await launchBrowser();
  });
  after(() => suite.browser?.close());
  return suite;
}

export interface PortalPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
}

/** A fresh browser profile (its own cookies) on a laptop-sized screen, collecting console errors. */
export async function openPortal(browser: Browser, baseUrl: string): Promise<PortalPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    acceptDownloads: true,
    viewport: { width: 1366, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return { page, context, errors };
}

export async function signIn(page: Page, apiKey: string): Promise<void> {
  await page.goto('/portal/bulk-changes');
  await page.waitForURL(/\/portal\/sign-in/);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/portal\/bulk-changes$/);
}

/** The session's CSRF token, as a script on the page could read it from any form. */
export const csrfToken = (page: Page): Promise<string> =>
  page.locator('input[name="_csrf"]').first().inputValue();

/** Waits until the bulk change page shows a status matching `pattern` (it changes live, by SSE). */
export const waitForBulkStatus = (page: Page, pattern: RegExp, timeout = 60_000) =>
  page.locator('[data-bulk-status]').filter({ hasText: pattern }).waitFor({ timeout });
