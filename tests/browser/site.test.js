// Browser tests of the site against `colorid dev` and its test identity provider.
// scripts/test-browser starts two dev servers and sets:
//   COLORID_URL       a stack with no required level
//   COLORID_URL_AAL2  the same site with required_level = "AAL2"
//   COLORID_TEST_OUTPUT  where screenshots go; COLORID_DOCS_SCREENSHOT  the README's screenshot
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { useChromium, newPage } from './chromium.js';

const BASE = process.env.COLORID_URL;
const BASE_AAL2 = process.env.COLORID_URL_AAL2;
const OUT = process.env.COLORID_TEST_OUTPUT ?? 'test-output';
const DOCS_SHOT = process.env.COLORID_DOCS_SCREENSHOT;
assert.ok(BASE && BASE_AAL2, 'run through scripts/test-browser (COLORID_URL, COLORID_URL_AAL2)');

useChromium();

/** A page (nothing may leave loopback) at the size of the README's screenshot. */
const sitePage = () => newPage({ viewport: { width: 1000, height: 760 } });

/** Signs in from the start page as `user` on the test provider; returns the id token. */
async function signIn(page, base, user) {
  await page.goto(base + '/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  await pickUser(page, base, user);
  return page.evaluate(() => sessionStorage.getItem('colorid_id_token'));
}

async function pickUser(page, base, user) {
  assert.match(await page.textContent('body'), /test identity provider — for local development only/);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  await page.waitForURL(base + '/');
}

async function api(base, path, token, init = {}) {
  const resp = await fetch(base + path, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  });
  return { status: resp.status, body: resp.status === 204 ? null : await resp.json() };
}

const hexOf = (n) => '#' + n.toString(16).padStart(6, '0');
const rgbOf = (hex) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
const bodyBackground = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const coloridKeys = (page) =>
  page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('colorid_')));

function screenshotPath(name) {
  mkdirSync(OUT, { recursive: true });
  return join(OUT, name);
}

test('alice signs in, the page is painted in her colour and shows who she is; a reload keeps her signed in', async () => {
  const { context, page } = await sitePage();
  const token = await signIn(page, BASE, 'alice');
  assert.ok(token, 'an id token in sessionStorage');
  await page.locator('#signed-in').waitFor();

  const color = await api(BASE, '/api/color', token);
  assert.equal(color.status, 200);
  const hex = hexOf(color.body.yourColorIdentity);
  await page.waitForFunction((rgb) => getComputedStyle(document.body).backgroundColor === rgb, rgbOf(hex));
  assert.equal(await bodyBackground(page), rgbOf(hex));
  assert.equal(await page.textContent('#color-hex'), hex);
  assert.equal(await page.textContent('#user-identity'), color.body.yourUserIdentity);
  assert.equal(await page.textContent('#level'), 'AAL1');
  assert.equal(await page.textContent('#profile .colorid-name'), 'Alice Liddell');
  assert.equal(await page.textContent('#profile .colorid-avatar'), 'AL');
  await page.locator('#attributes dd', { hasText: 'alice@example.test (verified)' }).waitFor();
  assert.ok(await page.locator('#test-idp').isVisible(), 'the test provider warning is shown');
  await page.screenshot({ path: screenshotPath('signed-in.png') });
  if (DOCS_SHOT) {
    mkdirSync(dirname(DOCS_SHOT), { recursive: true });
    await page.screenshot({ path: DOCS_SHOT });
  }

  await page.reload();
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.textContent('#user-identity'), color.body.yourUserIdentity);
  // The page fades into the colour: wait for the end of the transition.
  await page.waitForFunction((rgb) => getComputedStyle(document.body).backgroundColor === rgb, rgbOf(hex));

  // Another browser context shares nothing: it is signed out.
  const other = await sitePage();
  await other.page.goto(BASE + '/');
  await other.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.deepEqual(await coloridKeys(other.page), []);
  assert.ok(!(await other.page.locator('#signed-in').isVisible()));
  await other.context.close();

  // Alice has no verified birthdate at 65+: the formula says false.
  await page.getByRole('button', { name: 'Check: aged 65 or over?' }).click();
  await page.locator('#age-result', { hasText: 'Age >= 65: false' }).waitFor();
  await context.close();
});

test('sign-out clears every colorid_ key and ends the provider session', async () => {
  const { context, page } = await sitePage();
  await signIn(page, BASE, 'carol');
  await page.locator('#signed-in').waitFor();
  assert.ok((await coloridKeys(page)).length >= 3);
  const ended = page.waitForRequest(/\/idp\/logout\?/);
  const back = page.waitForRequest((r) => r.url() === BASE + '/' && r.isNavigationRequest());
  await page.getByRole('button', { name: 'Sign out' }).click();
  const req = await ended;
  assert.equal(new URL(req.url()).searchParams.get('post_logout_redirect_uri'), BASE + '/');
  await back;
  await page.waitForLoadState();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.deepEqual(await coloridKeys(page), []);
  assert.equal(await page.evaluate(() => document.body.style.backgroundColor), '');
  await context.close();
});

test('an expired token signs the user out with a message', async () => {
  const { context, page } = await sitePage();
  await signIn(page, BASE, 'alice');
  await page.locator('#signed-in').waitFor();
  // Let the token run out three seconds from now, with the provider's session gone,
  // so the prompt=none renewal is refused (renewal.test.js covers the renewals that succeed).
  await context.clearCookies();
  await page.evaluate(() => sessionStorage.setItem('colorid_expires_at', String(Date.now() / 1000 + 3)));
  await page.reload();
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: 10_000 });
  assert.match(await alert.textContent(), /session has expired/);
  assert.deepEqual(await coloridKeys(page), []);
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.body.style.backgroundColor), '');
  await context.close();
});

test('a forged callback (wrong state, HTML in error_description) leaves the sign-in under way alone and shows none of its text', async () => {
  const { context, page } = await sitePage();
  await page.goto(BASE + '/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  const authorize = page.url();
  const pending = await page.evaluate(() =>
    Object.fromEntries(Object.entries(sessionStorage).filter(([k]) => k.startsWith('colorid_'))));
  assert.ok(pending.colorid_state && pending.colorid_pkce_verifier && pending.colorid_nonce, 'a sign-in is under way');
  const bait = '<img src=x onerror="window.pwned=1">Your account is locked: call +1 555 0100';
  for (const query of [
    `error=access_denied&error_description=${encodeURIComponent(bait)}&state=forged`,
    `error=access_denied&error_description=${encodeURIComponent(bait)}`,
    'code=forged&state=forged',
  ]) {
    await page.goto(BASE + '/callback.html?' + query);
    await page.getByRole('heading', { name: 'Sign-in did not complete' }).waitFor();
    const status = await page.textContent('#status');
    assert.match(status, /state does not match/, query);
    assert.doesNotMatch(await page.textContent('body'), /locked|555|onerror/, query);
    assert.equal(await page.evaluate(() => document.querySelector('img')), null, query);
    assert.equal(await page.evaluate(() => window.pwned), undefined, query);
    const now = await page.evaluate(() =>
      Object.fromEntries(Object.entries(sessionStorage).filter(([k]) => k.startsWith('colorid_'))));
    assert.deepEqual(now, pending, `${query}: the stored state, nonce and verifier are kept`);
  }
  // The genuine sign-in still completes.
  await page.goto(authorize);
  await pickUser(page, BASE, 'alice');
  await page.locator('#signed-in').waitFor();
  await context.close();
});

test('a provider error with the right state shows a fixed message, never the provider text', async () => {
  const { context, page } = await sitePage();
  await page.goto(BASE + '/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  const state = await page.evaluate(() => sessionStorage.getItem('colorid_state'));
  await page.goto(BASE + '/callback.html?' + new URLSearchParams({
    error: 'access_denied', error_description: 'Call +1 555 0100 now', state }));
  await page.getByRole('heading', { name: 'Sign-in did not complete' }).waitFor();
  assert.equal(await page.textContent('#status'), 'sign-in failed: sign-in was cancelled or refused');
  assert.deepEqual(await coloridKeys(page), []);
  await context.close();
});

test('below the required level the site offers step-up; bob at AAL2 gets in and is 65 or over', async () => {
  const { context, page } = await sitePage();
  const aliceToken = await signIn(page, BASE_AAL2, 'alice');
  const refused = await api(BASE_AAL2, '/api/color', aliceToken);
  assert.equal(refused.status, 401); // RFC 9470 step-up
  assert.deepEqual(refused.body, { code: 'insufficient_assurance', required: 'AAL2' });
  await page.locator('#step-up').waitFor();
  assert.equal(await page.textContent('#required-level'), 'AAL2');
  assert.equal(await page.evaluate(() => document.body.style.backgroundColor), '');

  await page.getByRole('button', { name: 'Sign in again with a stronger method' }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  assert.equal(new URL(page.url()).searchParams.get('acr_values'), 'AAL2');
  await pickUser(page, BASE_AAL2, 'bob');
  await page.locator('#signed-in').waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem('colorid_id_token'));
  const color = await api(BASE_AAL2, '/api/color', token);
  assert.equal(color.status, 200);
  assert.equal(color.body.level, 'AAL2');
  await page.waitForFunction(
    (rgb) => getComputedStyle(document.body).backgroundColor === rgb,
    rgbOf(hexOf(color.body.yourColorIdentity)),
  );
  assert.equal(await page.textContent('#level'), 'AAL2');

  const formula = {
    attributes: [{ name: 'Senior', definition: { source: 'FORMULA', pedigree: 'AUTHORITATIVE', formula: 'Age >= 65' } }],
  };
  const senior = await api(BASE_AAL2, '/api/attributes', token, { method: 'POST', body: JSON.stringify(formula) });
  assert.equal(senior.status, 200);
  assert.equal(senior.body.attributes[0].value, 'true');
  await page.getByRole('button', { name: 'Check: aged 65 or over?' }).click();
  await page.locator('#age-result', { hasText: 'Age >= 65: true' }).waitFor();
  // The API answers "true" (a string, as /api/v1 does); colorid.evaluate() gives the boolean.
  const evaluated = await page.evaluate(async () => {
    const colorid = await import('/colorid.js');
    return [await colorid.evaluate('Senior', 'Age >= 65'), await colorid.evaluate('Young', 'Age < 18')];
  });
  assert.deepEqual(evaluated, [true, false]);
  await page.screenshot({ path: screenshotPath('step-up-bob.png') });
  await context.close();
});
