// Renewal: a signed-in user stays signed in past the first token's expiry.
// scripts/test-browser starts two `colorid dev` servers whose test provider
// issues 8-second id tokens (COLORID_DEV_TOKEN_SECONDS=8):
//   COLORID_URL_RENEW_REFRESH  scopes include offline_access: renewal by refresh token, rotated
//   COLORID_URL_RENEW_SILENT   no offline_access: renewal by a prompt=none sign-in
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext, chooseUser } from './chromium.js';

const REFRESH = process.env.COLORID_URL_RENEW_REFRESH;
const SILENT = process.env.COLORID_URL_RENEW_SILENT;
assert.ok(REFRESH && SILENT, 'run through scripts/test-browser (COLORID_URL_RENEW_REFRESH, COLORID_URL_RENEW_SILENT)');

useChromium();

const session = (page) =>
  page.evaluate(() => ({
    token: sessionStorage.getItem('colorid_id_token'),
    exp: Number(sessionStorage.getItem('colorid_expires_at')),
    refresh: sessionStorage.getItem('colorid_refresh_token'),
  }));

async function signInAndOutlive(base) {
  const context = await loopbackContext();
  const page = await context.newPage();
  const visited = [];
  // Navigation requests, redirects included (the provider answers prompt=none with a 303).
  page.on('request', (r) => { if (r.isNavigationRequest()) visited.push(r.url()); });
  await page.goto(base + '/');
  await chooseUser(page, base, 'alice');
  await page.locator('#signed-in').waitFor();
  const first = await session(page);
  assert.ok(first.exp - Date.now() / 1000 <= 8, 'a short-lived first token');
  // Past the first token's expiry, with margin.
  const wait = (first.exp - Date.now() / 1000 + 3) * 1000;
  await page.waitForTimeout(wait);
  await page.waitForURL(base + '/');
  await page.locator('#signed-in').waitFor();
  const now = await session(page);
  assert.ok(now.token && now.token !== first.token, 'a new token');
  assert.ok(now.exp > first.exp && now.exp > Date.now() / 1000, 'valid beyond the first expiry');
  assert.ok(await page.locator('#message').isHidden(), 'no "session expired" message');
  const status = await page.evaluate(async (t) => (await fetch('/api/color', { headers: { Authorization: `Bearer ${t}` } })).status, now.token);
  assert.equal(status, 200);
  return { context, first, now, visited };
}

test('with offline_access the refresh token renews the session in place and rotates', async () => {
  const { context, first, now, visited } = await signInAndOutlive(REFRESH);
  assert.ok(first.refresh, 'a refresh token was issued');
  assert.ok(now.refresh && now.refresh !== first.refresh, 'rotated');
  assert.ok(!visited.some((u) => u.includes('prompt=none')), 'no redirect to the provider');
  await context.close();
});

test('without offline_access a prompt=none sign-in renews the session', async () => {
  const { context, first, now, visited } = await signInAndOutlive(SILENT);
  assert.equal(first.refresh, null);
  assert.equal(now.refresh, null);
  assert.ok(visited.some((u) => u.includes('/idp/authorize?') && u.includes('prompt=none')), visited.join('\n'));
  await context.close();
});
