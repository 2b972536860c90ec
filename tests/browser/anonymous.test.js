// Anonymous sign-in: a stack with `[identity] scopes = ["openid"]` (COLORID_URL_ANON,
// started by scripts/test-browser). The page shows the pseudonymous identity and the
// colour; no response the site, the API or the token endpoint sends carries the
// user's name or email. (The test provider's own user chooser lists its users'
// claims, as a provider's sign-in page would; it is not the site, so it is left out.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext } from './chromium.js';

const BASE = process.env.COLORID_URL_ANON;
assert.ok(BASE, 'run through scripts/test-browser (COLORID_URL_ANON)');

useChromium();

const LEAKS = ['Alice', 'Liddell', 'alice@example.test', '1990-05-04'];

test('with scopes = ["openid"] the site shows only the pseudonymous identity and colour', async () => {
  const context = await loopbackContext();
  const page = await context.newPage();
  const seen = [];
  // The callback page leaves as soon as the token arrives, so the token response's body
  // is read here, on its way to the page, not after (when it may be gone).
  await context.route(/\/idp\/token$/, async (route) => {
    const resp = await route.fetch();
    const text = await resp.text();
    seen.push({ url: '/idp/token', type: resp.headers()['content-type'] ?? '', text });
    await route.fulfill({ response: resp, body: text });
  });
  page.on('response', async (resp) => {
    const url = new URL(resp.url());
    if (url.pathname === '/idp/authorize' || url.pathname === '/idp/token') return;
    // An unreadable body is recorded as such, never as an empty (and so clean) one.
    const text = await resp.text().catch(() => null);
    seen.push({ url: url.pathname, type: resp.headers()['content-type'] ?? '', text });
  });
  await page.goto(BASE + '/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  assert.equal(new URL(page.url()).searchParams.get('scope'), 'openid');
  await page.getByRole('button', { name: 'Sign in as alice' }).click();
  await page.waitForURL(BASE + '/');
  await page.locator('#signed-in').waitFor();
  await page.waitForFunction(() => document.getElementById('user-identity').textContent.length > 0);
  await page.waitForLoadState('networkidle');

  const identity = await page.textContent('#user-identity');
  assert.match(identity, /\S/);
  assert.match(await page.textContent('#color-hex'), /^#[0-9a-f]{6}$/);
  const shown = await page.textContent('body');
  const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
  // The answers that carry claims if any does (the token endpoint's, the API's) must be read;
  // another body may be gone once the page navigated on (the discovery document before sign-in).
  const carriesClaims = (url) => url.endsWith('/token') || url.startsWith('/api/');
  const unread = seen.filter((r) => r.text === null && carriesClaims(r.url)).map((r) => r.url);
  assert.deepEqual(unread, [], 'JSON responses whose body could not be read');
  for (const leak of LEAKS) {
    assert.ok(!shown.includes(leak), `${leak} is shown`);
    assert.ok(!stored.includes(leak), `${leak} is stored`);
    for (const r of seen) assert.ok(!(r.text ?? '').includes(leak), `${leak} in the response of ${r.url}`);
  }
  assert.ok(seen.some((r) => r.url === '/idp/token'), 'the token response was checked');
  assert.ok(seen.some((r) => r.url === '/api/color'), 'the colour response was checked');
  await context.close();
});
