// The client library's API (site/colorid.js) in the browser against `colorid dev`
// (COLORID_URL): searchAttribute and profile.attributes, the colorid_ storage
// helpers, the config getter, verbose logging, per-element and global
// onLogin/onLogout callbacks, sessionExpired, and the cancel event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useChromium, newPage, signIn } from './chromium.js';

const BASE = process.env.COLORID_URL;
assert.ok(BASE, 'run through scripts/test-browser (COLORID_URL)');

useChromium();

test('searchAttribute, profile.attributes, storage helpers, config getter and verbose', async () => {
  const { context, page } = await newPage();
  await signIn(page, BASE, 'alice');
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  const r = await page.evaluate(async () => {
    const m = await import('/colorid.js');
    const stored = [];
    await m.getStorage('id_token', (v) => stored.push(v));
    await m.setStorage('modified', 42, (v) => stored.push(v));
    const modified = m.getStorageItem('modified');
    m.delStorage('modified');
    const cfg = m.getConfig();
    cfg.apiBase = '/elsewhere';
    await m.init({ ...m.getConfig(), verbose: true });
    return {
      email: m.searchAttribute('Email'),
      first: m.searchAttribute('FirstName'),
      qid: m.searchAttribute('QID'),
      names: m.profile.attributes.map((a) => a.name),
      token: m.getStorageItem('id_token') === sessionStorage.getItem('colorid_id_token') && m.getStorageItem('id_token') !== null,
      stored,
      same: stored[0] === sessionStorage.getItem('colorid_id_token'),
      modified,
      gone: sessionStorage.getItem('colorid_modified'),
      apiBase: m.getConfig().apiBase,
    };
  });
  assert.equal(r.email, 'alice@example.test');
  assert.equal(r.first, 'Alice');
  assert.equal(r.qid, undefined);
  assert.ok(r.names.includes('DateOfBirth') && !r.names.includes('QID'), r.names.join());
  assert.ok(r.token && r.same);
  assert.equal(r.stored[1], 42);
  assert.equal(r.modified, '42');
  assert.equal(r.gone, null);
  assert.equal(r.apiBase, '/api', 'getConfig returns a copy');
  assert.ok(logs.some((l) => l.startsWith('colorid: attributes')), logs.join('\n'));
  await context.close();
});

test('per-element and global callbacks run on login and logout; sessionExpired signs out', async () => {
  const { context, page } = await newPage();
  await signIn(page, BASE, 'bob');
  // After a reload the library calls onLogin with the attributes already loaded.
  await page.reload();
  await page.locator('#signed-in').waitFor();
  const r = await page.evaluate(async () => {
    const m = await import('/colorid.js');
    const seen = [];
    m._onLogin.add((u) => seen.push(`global login ${u.sub} ${m.searchAttribute('FirstName')}`));
    m._onLogout.add((info) => seen.push(`global logout ${info.reason}`));
    m.element('#profile')
      .onLogin((me, u) => { me.dataset.state = 'in'; seen.push(`element login ${me.id} ${u.sub}`); })
      .onLogout((me, info) => { me.dataset.state = 'out'; seen.push(`element logout ${me.id} ${info.reason}`); });
    m.sessionExpired();
    return {
      seen,
      state: document.getElementById('profile').dataset.state,
      keys: Object.keys(sessionStorage).filter((k) => k.startsWith('colorid_')),
      attributes: m.profile.attributes.length,
    };
  });
  assert.deepEqual(r.seen, [
    'global login test-bob Bob',
    'element login profile test-bob',
    'global logout expired',
    'element logout profile expired',
  ]);
  assert.equal(r.state, 'out');
  assert.deepEqual(r.keys, []);
  assert.equal(r.attributes, 0);
  await page.locator('#signed-out').waitFor();
  assert.match(await page.textContent('#message'), /session has expired/);
  await context.close();
});

test('a cancelled sign-in fires the cancel event', async () => {
  const { context, page } = await newPage();
  await page.addInitScript(() => {
    window.__events = [];
    if (location.pathname === '/callback.html') {
      import('/colorid.js').then((m) => {
        for (const type of ['cancel', 'error']) m.events.addEventListener(type, (e) => window.__events.push(`${type}: ${e.detail.message}`));
      });
    }
  });
  await page.goto(BASE + '/');
  await page.evaluate(() => sessionStorage.setItem('colorid_state', 'st-1'));
  await page.goto(BASE + '/callback.html?error=access_denied&state=st-1');
  await page.waitForFunction(() => window.__events.length > 0);
  assert.deepEqual(await page.evaluate(() => window.__events), ['cancel: sign-in failed: sign-in was cancelled or refused']);
  await context.close();
});

// Issue 25, item 4: the page a sign-in returns to is resolved as the browser
// resolves it, and only a same-origin one is kept (an open redirect otherwise:
// browsers drop tabs and newlines, so "/\t/evil.example" is another host).
test('the return path after sign-in never leaves the origin', async () => {
  const { context, page } = await newPage();
  await page.goto(BASE + '/');
  const r = await page.evaluate(async () => {
    const m = await import('/colorid.js');
    const back = async (path) => {
      sessionStorage.setItem('colorid_state', 'st');
      sessionStorage.setItem('colorid_return_to', path);
      sessionStorage.setItem('colorid_silent', '1');
      const to = await m.handleCallback(location.origin + '/callback.html?state=st&error=login_required');
      return { path, to, origin: new URL(to, location.origin).origin };
    };
    const evil = ['/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '//evil.example',
      '/\\evil.example', '/\\/evil.example', '/\t\\evil.example', 'https://evil.example/',
      'https:evil.example', '\t//evil.example', 'javascript:alert(1)', ''];
    const out = [];
    for (const p of evil) out.push(await back(p));
    const kept = await back('/docs/?a=1#top');
    return { origin: location.origin, out, kept };
  });
  for (const { path, to, origin } of r.out) {
    assert.equal(origin, r.origin, `${JSON.stringify(path)} led to ${to}`);
    assert.equal(to, '/', JSON.stringify(path));
  }
  assert.equal(r.kept.to, '/docs/?a=1#top');
  await context.close();
});
