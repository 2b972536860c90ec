// Sign-in offered on page load (`[identity] sign_in_on_load = true`, COLORID_URL_ONLOAD)
// and the favicon, as the original site had them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext, newPage } from './chromium.js';

const BASE = process.env.COLORID_URL_ONLOAD;
assert.ok(BASE, 'run through scripts/test-browser (COLORID_URL_ONLOAD)');

useChromium();

test('a visitor without a session is sent to sign in once; after signing out the page stays', async () => {
  const context = await loopbackContext();
  const page = await context.newPage();
  await page.goto(BASE + '/');
  await page.waitForURL(/\/idp\/authorize\?/);
  await page.getByRole('button', { name: 'Sign in as carol' }).click();
  await page.waitForURL(BASE + '/');
  await page.locator('#signed-in').waitFor();
  // Sign-out ends the provider's session and comes back: wait for that round
  // trip to land before reloading, or the reload races it.
  const back = page.waitForRequest((r) => r.url() === BASE + '/' && r.isNavigationRequest());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await back;
  await page.waitForLoadState();
  await page.locator('#signed-out').waitFor();
  await page.reload();
  await page.locator('#signed-out').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await context.close();
});

test('the favicon is color.png', async () => {
  const { context, page } = await newPage();
  const resp = await page.request.get(BASE + '/color.png');
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['content-type'], 'image/png');
  const body = await resp.body();
  assert.deepEqual([...body.subarray(1, 4)], [...Buffer.from('PNG')]);
  await page.goto(BASE + '/docs/');
  assert.equal(await page.getAttribute('link[rel=icon]', 'href'), '/color.png');
  await context.close();
});
