// Shared set-up of the browser tests: headless Chromium (launched before a
// file's tests, closed after), contexts whose requests never leave loopback,
// and signing in on `colorid dev`'s test identity provider.
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

let browser;

/** Launches Chromium before this file's tests (after the hooks registered earlier) and closes it after them. */
export function useChromium() {
  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => browser?.close());
}

/** A browser context (with `options`) whose requests to anything but 127.0.0.1 are aborted. */
export async function loopbackContext(options = {}) {
  const context = await browser.newContext(options);
  await context.route(/^(?!http:\/\/127\.0\.0\.1[:/])/, (route) => route.abort());
  return context;
}

/** A loopback-only context and a page in it. */
export async function newPage(options = {}) {
  const context = await loopbackContext(options);
  return { context, page: await context.newPage() };
}

/** From the site's page at `base`: the Sign in button, `user` on the test provider, back at `base`. */
export async function chooseUser(page, base, user) {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  await page.waitForURL(base + '/');
}

/** Opens `base` and signs in as `user`, until the page shows the signed-in state. */
export async function signIn(page, base, user) {
  await page.goto(base + '/');
  await chooseUser(page, base, user);
  await page.locator('#signed-in').waitFor();
}
