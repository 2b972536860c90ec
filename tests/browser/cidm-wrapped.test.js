// A page written for the CIDM Wrapped guide (tests/browser/cidm/guide.html and guide.js, jQuery
// on the page) runs through site/cidm-wrapped.js under `colorid dev` (COLORID_URL_CIDM): every
// call the guide shows — initialise, the widget's sign-in, _onLogin/_onLogout, the element
// callbacks ($ and $jc), profile.attributes, searchAttribute, the storage helpers,
// session_expired, the Level_2 step-up, logout — with 0 page errors and 0 CSP violations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, loopbackContext } from './chromium.js';

const BASE = process.env.COLORID_URL_CIDM;
assert.ok(BASE, 'run through scripts/test-browser (COLORID_URL_CIDM)');
const PAGE = BASE + '/guide.html';

useChromium();

/** A page that records page errors, console output and CSP violations across navigations. */
async function watchedPage() {
  const context = await loopbackContext();
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.warn(`CSP-VIOLATION ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const seen = { pageErrors: [], csp: [], logs: [], consoleErrors: [] };
  page.on('pageerror', (err) => seen.pageErrors.push(err.message));
  page.on('console', (m) => {
    const text = m.text();
    seen.logs.push(text);
    if (text.startsWith('CSP-VIOLATION') || /Content Security Policy/.test(text)) seen.csp.push(text);
    else if (m.type() === 'error') seen.consoleErrors.push(text);
  });
  return { context, page, seen };
}

const widget = (page) => page.locator('#qgcidm-avatar');

async function signInFromWidget(page, user) {
  await widget(page).getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/idp\/authorize\?/);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  // Back on the page sign-in started from.
  await page.waitForURL(PAGE);
  await widget(page).getByRole('button', { name: 'Sign out' }).waitFor();
}

test('a CIDM Wrapped guide page runs unchanged through cidm-wrapped.js: 0 page errors, 0 CSP violations', async () => {
  const { context, page, seen } = await watchedPage();
  const resp = await page.goto(PAGE);
  assert.match(resp.headers()['content-security-policy'], /script-src 'self';/);

  // Signed out: the widget is a sign-in button in the configured element.
  await widget(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => typeof window.$jc.qgcidm.initialise), 'function');

  await signInFromWidget(page, 'alice');
  // The element callbacks ($ with jQuery, $jc without) and the _onLogin chain ran.
  await page.locator('#your-element-id', { hasText: 'look, I\'ve signed in' }).waitFor();
  await page.locator('#plain-element', { hasText: 'plain: signed in' }).waitFor();
  await page.locator('#attribute', { hasText: 'alice@example.test' }).waitFor();
  await page.locator('#jwt', { hasText: 'JWT present' }).waitFor();
  assert.ok(seen.logs.includes('You have now accessed the QID at the optimal time: undefined'), seen.logs.join('\n'));
  // Signed in: the initials and a sign-out button.
  const avatar = await widget(page).locator('.colorid-avatar').textContent();
  assert.match(avatar, /^[A-Z]{1,2}$/);
  // Verbose logging, and a note for each CIDM setting colorid takes from the stack.
  assert.ok(seen.logs.some((l) => l.startsWith('qgcidm: setting clientID is not used')), seen.logs.join('\n'));
  assert.ok(seen.logs.some((l) => l.startsWith('colorid: attributes')), 'colorid.js logs too when verbose');

  const r = await page.evaluate(async () => {
    const q = window.$jc.qgcidm;
    const out = {};
    out.config = { level: q.config.level, verbose: q.config.verbose, clientID: q.config.clientID };
    out.attributes = q.profile.attributes.map((a) => [a.name, a.value]);
    out.email = q.searchAttribute('Email');
    out.first = q.searchAttribute('FirstName');
    out.qid = q.searchAttribute('QID');
    out.method = q.searchAttribute('AuthenticationMethod');
    out.token = q.getStorageItem('access_token');
    out.idToken = sessionStorage.getItem('colorid_id_token');
    out.fromCallback = await new Promise((resolve) => q.getStorage('access_token', (v) => resolve(v)));
    out.started = Number(q.getStorageItem('started'));
    out.modified = Number(q.getStorageItem('modified'));
    const set = [];
    await q.setStorage('note', 'kept', (v) => set.push(v));
    await q.setStorage('note', (v) => set.push(v)); // the guide's two-argument form
    await q.setStorage('access_token', 'forged', (v) => set.push(v === out.token));
    out.set = set;
    out.note = q.getStorageItem('note');
    q.delStorage('note');
    out.noteGone = q.getStorageItem('note');
    // Change the attribute request and re-initialise, as the guide does.
    q.config.attributes = { Email: true, DateOfBirth: true };
    await q.initialise();
    out.after = q.profile.attributes.map((a) => a.name);
    return out;
  });
  assert.deepEqual(r.config, { level: 'Level_1', verbose: true, clientID: 'guide-client' });
  assert.deepEqual(r.attributes.map((a) => a[0]).sort(), ['AuthenticationMethod', 'DateOfBirth', 'Email', 'FamilyName', 'FirstName']);
  assert.equal(r.email, 'alice@example.test');
  assert.equal(r.first, 'Alice');
  assert.equal(r.qid, undefined, 'QID is a known name without a value on this stack');
  assert.equal(r.method, 'pwd');
  assert.ok(r.token && r.token === r.idToken, 'access_token is the token colorid.js sends to the API');
  assert.equal(r.fromCallback, r.token);
  assert.ok(r.started > 1.7e12 && r.modified >= r.started, `${r.started} ${r.modified}`);
  assert.deepEqual(r.set, ['kept', 'kept', true]);
  assert.equal(r.note, 'kept');
  assert.equal(r.noteGone, null);
  assert.deepEqual(r.after.sort(), ['DateOfBirth', 'Email']);

  // session_expired: signed out, session cleared, the user told.
  const dialog = new Promise((resolve) => page.once('dialog', async (d) => { resolve(d.message()); await d.accept(); }));
  await page.evaluate(() => { window.$jc.qgcidm.session_expired(); });
  assert.match(await dialog, /session has expired/);
  await widget(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await page.locator('#your-element-id', { hasText: 'signed out' }).waitFor();
  await page.locator('#plain-element', { hasText: 'plain: signed out' }).waitFor();
  assert.ok(seen.logs.includes('look, I\'ve signed out'));
  assert.ok(seen.logs.includes('You are now in control of the runtime after logging out'));
  assert.deepEqual(await page.evaluate(() => [window.$jc.qgcidm.getStorageItem('access_token'), window.$jc.qgcidm.profile.attributes.length]), [null, 0]);

  // Level_2: the widget offers a step-up, which asks the provider for AAL2.
  await signInFromWidget(page, 'alice');
  await page.evaluate(async () => {
    window.$jc.qgcidm.config.level = 'Level_2';
    await window.$jc.qgcidm.initialise();
  });
  await widget(page).getByRole('button', { name: 'Verify your identity' }).click();
  await page.waitForURL(/\/idp\/authorize\?.*acr_values=AAL2/);
  await page.getByRole('button', { name: 'Sign in as bob' }).click();
  await page.waitForURL(PAGE);
  await widget(page).getByRole('button', { name: 'Sign out' }).waitFor();
  const stepped = await page.evaluate(async () => {
    window.$jc.qgcidm.config.level = 'Level_2';
    await window.$jc.qgcidm.initialise();
    return document.querySelectorAll('#qgcidm-avatar .qgcidm-step-up').length;
  });
  assert.equal(stepped, 0, 'bob is at AAL2: no step-up offered');

  // delStorage with the guide's keys removes the token and the session timers.
  const deleted = await page.evaluate(() => {
    const q = window.$jc.qgcidm;
    q.delStorage('access_token', 'modified', 'started');
    return [q.getStorageItem('access_token'), q.getStorageItem('modified'), q.getStorageItem('started')];
  });
  assert.deepEqual(deleted, [null, null, null]);
  await widget(page).getByRole('button', { name: 'Sign in', exact: true }).waitFor();

  // logout from the widget: callbacks run, the session is cleared.
  await signInFromWidget(page, 'carol');
  const before = seen.logs.filter((l) => l === 'You are now in control of the runtime after logging out').length;
  await widget(page).getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(BASE + '/');
  const afterCount = seen.logs.filter((l) => l === 'You are now in control of the runtime after logging out').length;
  assert.equal(afterCount, before + 1);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('colorid_id_token')), null);

  // logout() called directly, as the guide shows it.
  await page.goto(PAGE);
  await signInFromWidget(page, 'alice');
  await page.evaluate(() => { window.$jc.qgcidm.logout(); });
  await page.waitForURL(BASE + '/');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('colorid_id_token')), null);

  assert.deepEqual(seen.pageErrors, [], 'page errors');
  assert.deepEqual(seen.csp, [], 'CSP violations');
  assert.deepEqual(seen.consoleErrors, [], 'console errors');
  await context.close();
});
