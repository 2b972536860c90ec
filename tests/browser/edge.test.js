// The site through the local edge, as a browser on the real domain sees it:
// against `colorid dev` (the distribution `up` would create) and against
// `colorid --local dev` on a stack `colorid --local up` deployed (the site from
// the emulated bucket, the function checking the deployed origin header).
// scripts/test-browser sets COLORID_URL_AAL2 and COLORID_URL_LOCAL (both AAL2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext, chooseUser } from './chromium.js';

const TARGETS = [
  ['wanted config', process.env.COLORID_URL_AAL2],
  ['deployed stack (--local)', process.env.COLORID_URL_LOCAL],
];
assert.ok(TARGETS.every(([, url]) => url), 'run through scripts/test-browser (COLORID_URL_AAL2, COLORID_URL_LOCAL)');

useChromium();

/** A page that records console errors, page errors and CSP violations. */
async function watchedPage() {
  const context = await loopbackContext({ viewport: { width: 1000, height: 760 } });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => problems.push(err.message));
  return { context, page, problems };
}

/** Console errors other than the expected failed API call that starts step-up. */
const unexpected = (problems) => problems.filter((p) => !/status of 401/.test(p));

for (const [name, BASE] of TARGETS) {
  test(`${name}: step-up through the edge, security headers, no console errors, zero CSP violations`, async () => {
    const { context, page, problems } = await watchedPage();
    const resp = await page.goto(BASE + '/');
    const h = resp.headers();
    assert.match(h['content-security-policy'], /script-src 'self';/);
    assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(h['strict-transport-security'], /max-age=\d{8}/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['x-frame-options'], 'DENY');
    assert.ok(h['referrer-policy']);
    assert.ok(h['permissions-policy']);

    await chooseUser(page, BASE, 'alice');
    // alice is AAL1: the API's own 401 JSON reaches the page, which offers step-up.
    await page.locator('#step-up').waitFor();
    assert.equal(await page.textContent('#required-level'), 'AAL2');
    const token = await page.evaluate(() => sessionStorage.getItem('colorid_id_token'));
    assert.ok(token, 'the step-up answer keeps the session');
    const refused = await page.evaluate(async (t) => {
      const r = await fetch('/api/color', { headers: { Authorization: 'Bearer ' + t } });
      return { status: r.status, body: await r.json(), challenge: r.headers.get('www-authenticate') };
    }, token);
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.body, { code: 'insufficient_assurance', required: 'AAL2' });
    assert.match(refused.challenge, /insufficient_user_authentication/);

    await page.getByRole('button', { name: 'Sign in again with a stronger method' }).click();
    await page.waitForURL(/\/idp\/authorize\?/);
    await page.getByRole('button', { name: 'Sign in as bob' }).click();
    await page.waitForURL(BASE + '/');
    await page.locator('#signed-in').waitFor();
    await page.locator('#color-hex', { hasText: /^#[0-9a-f]{6}$/ }).waitFor();
    assert.equal(await page.textContent('#level'), 'AAL2');

    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(unexpected(problems), []);
    await context.close();
  });

  test(`${name}: the 404 page, a subdirectory page, and no manifest`, async () => {
    const { context, page, problems } = await watchedPage();
    const missing = await page.goto(BASE + '/missing');
    assert.equal(missing.status(), 404);
    assert.equal(await page.textContent('h1'), 'Page not found');
    const docs = await page.goto(BASE + '/docs/');
    assert.equal(docs.status(), 200);
    assert.equal(await page.textContent('h1'), 'About colorid');
    assert.ok(docs.headers()['content-security-policy']);
    const manifest = await page.goto(BASE + '/.colorid/manifest.json');
    assert.equal(manifest.status(), 404);
    assert.equal(await page.textContent('h1'), 'Page not found');
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    // The only console errors: the browser's own notes of the two 404 answers.
    assert.deepEqual(problems.filter((p) => !/status of 404/.test(p)), []);
    await context.close();
  });
}
