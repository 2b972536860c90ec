// The same sign-in against a second, independent OpenID provider: the npm
// `oidc-provider` with its development interactions, on 127.0.0.1, and
// `colorid dev --issuer … --client-id …` in front of it.
// scripts/test-browser sets COLORID_BIN and COLORID_STACK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import Provider from 'oidc-provider';
import { useChromium, newPage } from './chromium.js';

const BIN = process.env.COLORID_BIN;
const STACK = process.env.COLORID_STACK;
const CLIENT_ID = 'colorid-oidc-test';
let idpServer, dev, devUrl, issuer;

/** Starts `colorid dev` with the given issuer; resolves to its URL. */
function startDev(args) {
  dev = spawn(BIN, ['--stack', STACK, 'dev', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    dev.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/open: +(http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve(m[1]);
    });
    dev.on('exit', (code) => reject(new Error(`colorid dev exited with ${code}: ${out}`)));
  });
}

/** A free loopback port (dev must know its URL before the provider, which reads it, starts). */
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// The provider and dev start first, then Chromium (useChromium's hook, registered after).
before(async () => {
  assert.ok(BIN && STACK, 'run through scripts/test-browser (COLORID_BIN, COLORID_STACK)');
  idpServer = createServer();
  await new Promise((r) => idpServer.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${idpServer.address().port}`;
  // The provider answers before dev starts: dev reads its discovery document at start.
  const devPort = await freePort();
  const devOrigin = `http://127.0.0.1:${devPort}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      token_endpoint_auth_method: 'none',
      redirect_uris: [devOrigin + '/callback.html'],
      post_logout_redirect_uris: [devOrigin + '/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    clientBasedCORS: () => true,
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: 'Pat Example', email: `${sub}@example.test`, email_verified: true }),
    }),
  });
  idpServer.on('request', provider.callback());
  devUrl = await startDev(['--port', String(devPort), '--issuer', issuer, '--client-id', CLIENT_ID]);
  assert.equal(devUrl, devOrigin);
});

after(async () => {
  dev?.kill();
  idpServer?.close();
});
useChromium();

test('sign-in through oidc-provider paints the page in the colour /api/color returns', async () => {
  // Nothing may leave loopback (the provider's pages import a web font).
  const { context, page } = await newPage();
  await page.goto(devUrl + '/');
  assert.ok(!(await page.locator('#test-idp').isVisible()), 'no test-provider banner for a real issuer');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === issuer);
  await page.fill('input[name=login]', 'pat');
  await page.fill('input[name=password]', 'any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(devUrl + '/');
  await page.locator('#signed-in').waitFor();

  const token = await page.evaluate(() => sessionStorage.getItem('colorid_id_token'));
  const resp = await fetch(devUrl + '/api/color', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(resp.status, 200);
  const color = await resp.json();
  const hex = '#' + color.yourColorIdentity.toString(16).padStart(6, '0');
  const rgb = `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
  await page.waitForFunction((want) => getComputedStyle(document.body).backgroundColor === want, rgb);
  assert.equal(await page.textContent('#user-identity'), color.yourUserIdentity);
  assert.equal(await page.textContent('#profile .colorid-name'), 'Pat Example');

  // Sign-out ends the provider's session through its end_session_endpoint.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.origin === issuer);
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(devUrl + '/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.deepEqual(
    await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('colorid_'))),
    [],
  );
  await context.close();
});
