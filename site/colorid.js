// colorid client library: OpenID Connect sign-in (authorization code + PKCE S256,
// state and nonce checked), the session in sessionStorage under `colorid_`, and
// calls to the identity function. A plain ES module: no build step, no CDN.

const PREFIX = 'colorid_';
const KEY = {
  token: PREFIX + 'id_token',
  access: PREFIX + 'access_token',
  expiresAt: PREFIX + 'expires_at',
  user: PREFIX + 'user',
  verifier: PREFIX + 'pkce_verifier',
  state: PREFIX + 'state',
  nonce: PREFIX + 'nonce',
  returnTo: PREFIX + 'return_to',
  refresh: PREFIX + 'refresh_token',
  silent: PREFIX + 'silent',
  expired: PREFIX + 'expired',
};

let config = null;
let discovery = null;
let expiryTimer = null;
let renewTimer = null;
const loginHandlers = [];
const logoutHandlers = [];

/** The attribute names loaded into `profile.attributes` after sign-in, unless `attributes` is configured. */
export const DEFAULT_ATTRIBUTES = ['FirstName', 'FamilyName', 'Name', 'Nickname', 'Email', 'DateOfBirth', 'Picture', 'AuthenticationMethod', 'Level'];

/** The signed-in user's profile: `attributes` as `/api/v1/customer_attributes` released them. */
export const profile = { attributes: [] };

/** Session events: `cancel` (the user cancelled at the provider), `error` (`detail`: the Error) and `renewed` (`detail`: the new claims). */
export const events = new EventTarget();

function log(...args) {
  if (config && config.verbose) console.log('colorid:', ...args);
}

function emit(type, detail) {
  log('event', type, detail?.message ?? '');
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

/** Configures the library: {issuer, clientId, apiBase = "/api", requiredLevel, stepUpAcrValues, redirectPath,
 * scopes = ["openid", "profile", "email"], apiAudience, audienceParameter = "audience"};
 * ["openid"] alone is an anonymous sign-in. With `apiAudience` the sign-in asks for an access
 * token for that API (as `audienceParameter`: "audience" for Auth0, "resource" for RFC 8707,
 * null when `scopes` name the API, as Entra ID, Okta, Cognito and Keycloak want) and the API
 * calls send it instead of the ID token. */
export async function init(cfg) {
  if (!cfg || !cfg.issuer || !cfg.clientId) throw new Error('colorid: issuer and clientId are required');
  config = { apiBase: '/api', redirectPath: '/callback.html', scopes: ['openid', 'profile', 'email'], attributes: DEFAULT_ATTRIBUTES, verbose: false, audienceParameter: 'audience', ...cfg };
  log('configured', getConfig());
  const u = user();
  if (u) {
    scheduleExpiry();
    await loadAttributes();
    log('signed in', u.sub);
    for (const cb of loginHandlers) cb(u);
  } else if (sessionStorage.getItem(KEY.token) || sessionStorage.getItem(KEY.expired)) {
    sessionStorage.removeItem(KEY.expired);
    expire();
  }
  return config;
}

/** A copy of the configuration in use (null before init). */
export function getConfig() {
  return config && structuredClone(config);
}

/** Loads `config.attributes` into `profile.attributes` (empty when none has a value). */
export async function loadAttributes(names = config.attributes) {
  profile.attributes = [];
  if (!names || names.length === 0) return profile.attributes;
  try {
    const q = new URLSearchParams({ self_asserted_attributes: names.join(',') });
    const body = await api('/v1/customer_attributes?' + q);
    profile.attributes = body ? body.attributes : [];
  } catch (e) {
    log('attributes not loaded:', e.message);
  }
  log('attributes', profile.attributes);
  return profile.attributes;
}

/** The value of attribute `name` in `profile.attributes`, or undefined. */
export function searchAttribute(name) {
  return profile.attributes.find((a) => a.name === name)?.value;
}

/** Storage under the `colorid_` prefix (sessionStorage); `key` without the prefix. */
export function getStorageItem(key) {
  return sessionStorage.getItem(PREFIX + key);
}

/** Calls `cb(value)` with a stored value; also resolves to it. */
export async function getStorage(key, cb) {
  const v = getStorageItem(key);
  if (cb) cb(v);
  return v;
}

/** Stores `value` under `colorid_<key>`; calls `cb(value)` when given. */
export async function setStorage(key, value, cb) {
  sessionStorage.setItem(PREFIX + key, String(value));
  if (cb) cb(value);
  return value;
}

/** Removes each `colorid_<key>`. */
export function delStorage(...keys) {
  for (const k of keys) sessionStorage.removeItem(PREFIX + k);
}

/** Per-element callbacks: `element('#id').onLogin((me, user) => ...).onLogout((me, info) => ...)`. */
export function element(target) {
  const el = typeof target === 'string' ? document.querySelector(target) : target;
  const chain = {
    onLogin(fn) {
      onLogin((u) => fn(el, u));
      return chain;
    },
    onLogout(fn) {
      onLogout((info) => fn(el, info));
      return chain;
    },
  };
  return chain;
}

/** The global callback lists of the original library: `_onLogin.add(fn)`, `_onLogout.add(fn)`. */
export const _onLogin = { add: (fn) => onLogin(fn) };
export const _onLogout = { add: (fn) => onLogout(fn) };

/** Reads /config.json (or `url`) and calls init with it. */
export async function initFromSite(url = '/config.json') {
  const resp = await fetch(url, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`colorid: ${url} answered ${resp.status}`);
  return init(await resp.json());
}

/** Calls `cb(user)` whenever a signed-in session is present at init. */
export function onLogin(cb) {
  loginHandlers.push(cb);
  const u = config && user();
  if (u) cb(u);
}

/** Calls `cb({reason})` on sign-out; reason is "user" or "expired". */
export function onLogout(cb) {
  logoutHandlers.push(cb);
}

/** The signed-in user's id token claims, or null. */
export function user() {
  const token = sessionStorage.getItem(KEY.token);
  if (!token || secondsLeft() <= 0) return null;
  try {
    return JSON.parse(sessionStorage.getItem(KEY.user));
  } catch {
    return null;
  }
}

/** The id token to send as a Bearer token, or null. */
export function token() {
  return user() ? sessionStorage.getItem(KEY.token) : null;
}

/** The access token for `apiAudience` (also `getStorageItem('access_token')`), or null. */
export function accessToken() {
  return user() && config && config.apiAudience ? sessionStorage.getItem(KEY.access) : null;
}

/** What the API gets: the access token when it is a JWT (the function can verify only those;
 * an opaque one, such as Google's, would be refused), else the id token. */
function bearer() {
  const at = accessToken();
  return at && at.split('.').length === 3 ? at : token();
}

function secondsLeft() {
  const exp = Number(sessionStorage.getItem(KEY.expiresAt));
  return Number.isFinite(exp) ? exp - Date.now() / 1000 : 0;
}

async function getDiscovery() {
  if (discovery) return discovery;
  const base = config.issuer.replace(/\/$/, '');
  const resp = await fetch(base + '/.well-known/openid-configuration');
  if (!resp.ok) throw new Error(`colorid: the identity provider's discovery answered ${resp.status}`);
  discovery = await resp.json();
  return discovery;
}

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return location.origin + config.redirectPath;
}

/**
 * Only same-origin paths: never send the user elsewhere after sign-in. The URL
 * parser decides, as the browser will when it navigates (it drops tabs and
 * newlines and reads `\\` as `/`, so `/\t/evil.example` is another host).
 */
function safePath(p) {
  if (typeof p !== 'string' || !p.startsWith('/')) return '/';
  let url;
  try {
    url = new URL(p, location.origin);
  } catch {
    return '/';
  }
  return url.origin === location.origin ? url.pathname + url.search + url.hash : '/';
}

/** Sends the browser to the provider. {acrValues, returnTo, prompt} are optional. */
export async function login({ acrValues, returnTo, prompt } = {}) {
  const d = await getDiscovery();
  const verifier = randomString();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = randomString();
  const nonce = randomString();
  sessionStorage.setItem(KEY.verifier, verifier);
  sessionStorage.setItem(KEY.state, state);
  sessionStorage.setItem(KEY.nonce, nonce);
  sessionStorage.setItem(KEY.returnTo, safePath(returnTo ?? location.pathname + location.search));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(' '),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (config.apiAudience && config.audienceParameter) params.set(config.audienceParameter, config.apiAudience);
  if (acrValues) params.set('acr_values', acrValues);
  if (prompt) params.set('prompt', prompt);
  if (prompt === 'none') sessionStorage.setItem(KEY.silent, '1');
  else sessionStorage.removeItem(KEY.silent);
  location.assign(d.authorization_endpoint + '?' + params);
}

/** The `acr_values` that ask the provider for assurance `level`: its own values from
 * `stepUpAcrValues` (config.json: `[identity.level_map]` read backwards), else the level's name. */
export function acrValuesFor(level) {
  const mapped = config.stepUpAcrValues && Object.hasOwn(config.stepUpAcrValues, level) ? config.stepUpAcrValues[level] : null;
  return mapped || level;
}

/** Signs in again at assurance `level` (default: `requiredLevel`), asking the provider in its own terms. */
export async function stepUp(level = config.requiredLevel, { returnTo } = {}) {
  return login({ acrValues: acrValuesFor(level || 'AAL2'), returnTo });
}

/** Decodes a JWT's payload without checking it (the function checks the signature). */
export function decodePayload(jwt) {
  const part = String(jwt).split('.')[1];
  if (!part) throw new Error('colorid: not a JWT');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

/** What the callback page says for each OAuth 2.0 / OpenID Connect error code;
 * the provider's error_description is never shown (anyone can write it into a link). */
const CALLBACK_ERRORS = {
  access_denied: 'sign-in was cancelled or refused',
  login_required: 'the identity provider needs you to sign in again',
  interaction_required: 'the identity provider needs you to confirm something first',
  consent_required: 'the identity provider needs your consent first',
  account_selection_required: 'choose an account at the identity provider',
  temporarily_unavailable: 'the identity provider is busy; try again in a moment',
  server_error: 'the identity provider had a problem; try again',
  invalid_request: 'the identity provider refused the request',
  unauthorized_client: 'this site is not allowed to sign in with the identity provider',
  unsupported_response_type: 'the identity provider refused the request',
  invalid_scope: 'the identity provider refused the requested scopes',
};

/** On the callback page: checks state, exchanges the code, checks the nonce; returns the path to go back to.
 * A cancelled sign-in fires `cancel` on `events`, any other failure `error`. */
export async function handleCallback(url = location.href) {
  try {
    return await finishCallback(url);
  } catch (e) {
    if (!e.emitted) emit('error', e);
    throw e;
  }
}

async function finishCallback(url) {
  const q = new URL(url).searchParams;
  const storedState = sessionStorage.getItem(KEY.state);
  // State first: a forged or stale link must neither end the sign-in under way nor show its text.
  if (!storedState || q.get('state') !== storedState) throw new Error('sign-in failed: the state does not match; start again');
  const expected = {
    nonce: sessionStorage.getItem(KEY.nonce),
    verifier: sessionStorage.getItem(KEY.verifier),
    returnTo: safePath(sessionStorage.getItem(KEY.returnTo)),
  };
  const silent = sessionStorage.getItem(KEY.silent) === '1';
  for (const k of [KEY.state, KEY.nonce, KEY.verifier, KEY.returnTo, KEY.silent]) sessionStorage.removeItem(k);
  const error = q.get('error');
  if (error && silent) {
    // A silent renewal the provider could not answer: back to the page, signed out as expired.
    log('silent renewal refused:', error);
    clearSession();
    sessionStorage.setItem(KEY.expired, '1');
    return expected.returnTo;
  }
  if (error) {
    const known = Object.hasOwn(CALLBACK_ERRORS, error) ? CALLBACK_ERRORS[error] : 'the identity provider reported an error';
    const e = new Error(`sign-in failed: ${known}`);
    emit(error === 'access_denied' ? 'cancel' : 'error', e);
    e.emitted = true;
    throw e;
  }
  const d = await getDiscovery();
  const resp = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: q.get('code') ?? '',
      redirect_uri: redirectUri(),
      client_id: config.clientId,
      code_verifier: expected.verifier ?? '',
    }),
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok || !body.id_token) {
    // The provider's error_description is never shown, here as on the callback URL; verbose logs have it.
    log('the token endpoint answered', resp.status, body.error, body.error_description);
    const code = /^[a-z_]{1,64}$/.test(body.error ?? '') ? body.error : resp.status;
    throw new Error(`sign-in failed: the identity provider refused the sign-in (${code})`);
  }
  const claims = decodePayload(body.id_token);
  if (claims.nonce !== expected.nonce) throw new Error('sign-in failed: the nonce does not match');
  if (claims.iss !== config.issuer) throw new Error('sign-in failed: the token comes from another issuer');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(config.clientId)) throw new Error('sign-in failed: the token is for another client');
  if (!(claims.exp > Date.now() / 1000)) throw new Error('sign-in failed: the token has expired');
  store(body, claims);
  return expected.returnTo;
}

function store(body, claims) {
  sessionStorage.setItem(KEY.token, body.id_token);
  sessionStorage.setItem(KEY.expiresAt, String(claims.exp));
  sessionStorage.setItem(KEY.user, JSON.stringify(claims));
  if (body.refresh_token) sessionStorage.setItem(KEY.refresh, body.refresh_token);
  else sessionStorage.removeItem(KEY.refresh);
  if (config.apiAudience && body.access_token) sessionStorage.setItem(KEY.access, body.access_token);
  else sessionStorage.removeItem(KEY.access);
}

/** Renews the session before the token expires: with the refresh token (rotated by the provider)
 * when `offline_access` gave one, else by a `prompt=none` sign-in. Resolves to true when renewed in place. */
export async function renew() {
  const refreshToken = sessionStorage.getItem(KEY.refresh);
  const before = user();
  if (refreshToken && before) {
    try {
      const d = await getDiscovery();
      const resp = await fetch(d.token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: config.clientId }),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok || !body.id_token) throw new Error(`refresh answered ${body.error ?? resp.status}`);
      const claims = decodePayload(body.id_token);
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (claims.iss !== config.issuer || !aud.includes(config.clientId) || claims.sub !== before.sub || !(claims.exp > Date.now() / 1000)) {
        throw new Error('the renewed token does not match the session');
      }
      store(body, claims);
      log('session renewed until', new Date(claims.exp * 1000).toISOString());
      scheduleExpiry();
      emit('renewed', claims);
      return true;
    } catch (e) {
      log('refresh failed:', e.message);
      sessionStorage.removeItem(KEY.refresh);
    }
  }
  log('renewing with prompt=none');
  await login({ prompt: 'none' });
  return false;
}

function clearSession() {
  clearTimeout(expiryTimer);
  clearTimeout(renewTimer);
  for (const k of Object.keys(sessionStorage)) if (k.startsWith(PREFIX)) sessionStorage.removeItem(k);
}

function scheduleExpiry() {
  clearTimeout(expiryTimer);
  clearTimeout(renewTimer);
  // setTimeout holds at most ~24.8 days; tokens live far shorter.
  const ms = (seconds) => Math.min(Math.max(seconds, 0) * 1000, 2 ** 31 - 1);
  expiryTimer = setTimeout(expire, ms(secondsLeft()));
  // Never from the callback page: it is finishing a sign-in (perhaps this very renewal).
  if (config.renew === false || location.pathname === config.redirectPath) return;
  // Renew a quarter of the lifetime (at most a minute) before expiry.
  const u = user();
  const lifetime = u && u.iat ? u.exp - u.iat : 3600;
  renewTimer = setTimeout(() => renew().catch((e) => log('renewal failed:', e.message)), ms(secondsLeft() - Math.min(60, lifetime / 4)));
}

function expire() {
  log('session expired');
  clearSession();
  profile.attributes = [];
  for (const cb of logoutHandlers) cb({ reason: 'expired' });
}

/** Ends the session as expired: clears every `colorid_` key and calls the onLogout callbacks with reason "expired". */
export function sessionExpired() {
  expire();
}

/** Revokes the refresh token (RFC 7009) when the provider has a revocation_endpoint; never throws. */
async function revokeRefreshToken(d, refreshToken) {
  if (!refreshToken || !d || !d.revocation_endpoint) return;
  try {
    const resp = await fetch(d.revocation_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: config.clientId }),
    });
    log('refresh token revoked:', resp.status);
  } catch (e) {
    // Signing out goes on: the local session is gone either way.
    log('revocation failed:', e.message);
  }
}

/** Clears every `colorid_` key, revokes the refresh token at the provider's revocation_endpoint (RFC 7009)
 * when there is one, then ends the provider's session when it offers an end_session_endpoint. */
export async function logout() {
  const idToken = sessionStorage.getItem(KEY.token);
  const refreshToken = sessionStorage.getItem(KEY.refresh);
  log('signing out');
  clearSession();
  profile.attributes = [];
  for (const cb of logoutHandlers) cb({ reason: 'user' });
  let d = null;
  try {
    d = await getDiscovery();
  } catch {
    // The local session is gone either way.
  }
  await revokeRefreshToken(d, refreshToken);
  if (d && d.end_session_endpoint) {
    const params = new URLSearchParams({ client_id: config.clientId, post_logout_redirect_uri: location.origin + '/' });
    if (idToken) params.set('id_token_hint', idToken);
    location.assign(d.end_session_endpoint + '?' + params);
  }
}

/** An error from the identity function: {status, code, body}. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.code)) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

/** Calls the identity function with the access token for `apiAudience`, else the id token;
 * resolves to the JSON body (null on 204). */
export async function api(path, init = {}) {
  const t = bearer();
  if (!t) {
    if (sessionStorage.getItem(KEY.token)) expire();
    throw new ApiError(401, { code: 'signed_out', message: 'not signed in' });
  }
  const headers = new Headers(init.headers);
  headers.set('Authorization', 'Bearer ' + t);
  if (init.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const resp = await fetch(config.apiBase + path, { ...init, headers });
  const body = resp.status === 204 ? null : await resp.json().catch(() => null);
  // RFC 9470: a 401 asking for a stronger sign-in keeps the session; any other 401 ends it.
  const stepUp = /insufficient_user_authentication/.test(resp.headers.get('WWW-Authenticate') ?? '');
  if (resp.status === 401 && !stepUp) expire();
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

/** The released attributes (self-asserted or better) among `names`, e.g. ["Name", "Email"]. */
export async function getAttributes(names) {
  const q = new URLSearchParams({ self_asserted_attributes: names.join(',') });
  const body = await api('/attributes?' + q);
  return body ? body.attributes : [];
}

/**
 * Evaluates `formula` (e.g. "Age >= 65") over authoritative attributes: true or false, or
 * undefined when the attributes it needs were not released. (Both APIs answer every value as
 * a string, "true" or "false" for a formula; this gives the boolean, so `if (await evaluate(…))`
 * means what it says.)
 */
export async function evaluate(name, formula, pedigree = 'AUTHORITATIVE') {
  const body = await api('/attributes', {
    method: 'POST',
    body: JSON.stringify({ attributes: [{ name, definition: { source: 'FORMULA', pedigree, formula } }] }),
  });
  const value = body ? body.attributes[0]?.value : undefined;
  return value === 'true' ? true : value === 'false' ? false : value;
}

/** Fills `el` with a small profile widget: the picture when there is one, else initials, and the name. */
export function renderProfile(el, u) {
  el.replaceChildren();
  const name = u.name || u.preferred_username || u.email || 'Signed in';
  if (u.picture && /^https:\/\//.test(u.picture)) {
    const img = document.createElement('img');
    img.src = u.picture;
    img.alt = '';
    img.className = 'colorid-avatar';
    el.append(img);
  } else {
    const initials = name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
    const span = document.createElement('span');
    span.className = 'colorid-avatar';
    span.setAttribute('aria-hidden', 'true');
    span.textContent = initials || '?';
    el.append(span);
  }
  const label = document.createElement('span');
  label.className = 'colorid-name';
  label.textContent = name;
  el.append(label);
}
