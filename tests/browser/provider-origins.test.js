// A provider whose token and revocation endpoints live on another origin than
// its issuer (as Cognito's and Google's do), through the local edge of
// `colorid dev` under the stack's real Content-Security-Policy (built from the
// provider's discovery document), and the provider's own step-up value.
// scripts/test-browser sets COLORID_URL_TOKEN_ORIGIN: `colorid dev` with
// COLORID_DEV_SEPARATE_TOKEN_ORIGIN=1, scopes with offline_access,
// required_level = "AAL2" and [identity.level_map] gold = "AAL2".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext, chooseUser } from './chromium.js';

const BASE = process.env.COLORID_URL_TOKEN_ORIGIN;
assert.ok(BASE, 'run through scripts/test-browser (COLORID_URL_TOKEN_ORIGIN)');

useChromium();

/** A page whose CSP violations (the DOM event and the console's report) are all recorded. */
async function watchedPage() {
  const context = await loopbackContext();
  const violations = [];
  await context.exposeBinding('__cspViolation', (_source, v) => violations.push(v));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, page: location.href }));
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push({ console: m.text() });
  });
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  return { context, page, violations, posts };
}

async function discovery() {
  return (await fetch(BASE + '/idp/.well-known/openid-configuration')).json();
}

test('sign-in and sign-out through a token endpoint on another origin: 0 CSP violations, refresh token revoked', async () => {
  const d = await discovery();
  const tokenOrigin = new URL(d.token_endpoint).origin;
  assert.notEqual(tokenOrigin, new URL(BASE).origin, 'the token endpoint lives on another origin');
  assert.equal(new URL(d.revocation_endpoint).origin, tokenOrigin);

  const { context, page, violations, posts } = await watchedPage();
  const first = await page.goto(BASE + '/');
  // The stack's CSP, as the edge sends it: fetches to the site, the issuer and the token origin only.
  const csp = first.headers()['content-security-policy'];
  assert.match(csp, new RegExp(`connect-src 'self' ${BASE} ${tokenOrigin};`));

  await chooseUser(page, BASE, 'bob');
  await page.locator('#signed-in').waitFor();
  assert.ok(posts.includes(d.token_endpoint), `the code went to ${d.token_endpoint}: ${posts.join(', ')}`);
  assert.equal(await page.textContent('#level'), 'AAL2');
  const refresh = await page.evaluate(() => sessionStorage.getItem('colorid_refresh_token'));
  assert.ok(refresh, 'offline_access gave a refresh token');

  // Sign-out: RFC 7009 revocation on the token origin, then the provider's end_session_endpoint.
  const ended = page.waitForRequest(/\/idp\/logout\?/);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await ended;
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.ok(posts.includes(d.revocation_endpoint), `revoked at ${d.revocation_endpoint}: ${posts.join(', ')}`);
  const reuse = await fetch(d.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'colorid-dev' }),
  });
  assert.equal(reuse.status, 400);
  assert.equal((await reuse.json()).error, 'invalid_grant', 'the revoked refresh token is refused');

  console.log(`CSP violations: ${violations.length}; token endpoint ${d.token_endpoint}; csp connect-src: ${csp.match(/connect-src [^;]*/)[0]}`);
  assert.deepEqual(violations, []);
  await context.close();
});

test('step-up asks the provider for its own value of the required level (level_map read backwards)', async () => {
  const { context, page, violations } = await watchedPage();
  await page.goto(BASE + '/');
  await chooseUser(page, BASE, 'alice');
  await page.locator('#step-up').waitFor();
  assert.equal(await page.textContent('#required-level'), 'AAL2');
  await page.getByRole('button', { name: 'Sign in again with a stronger method' }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  assert.equal(new URL(page.url()).searchParams.get('acr_values'), 'gold');
  assert.deepEqual(violations, []);
  await context.close();
});
