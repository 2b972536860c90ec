// The page: sign in, fetch the colour, paint the page, show identity and attributes.
import * as colorid from '/colorid.js';

const $ = (id) => document.getElementById(id);
let cfg = null;
// Outside the colorid_ prefix, so signing out does not clear it.
const AUTO_SIGN_IN = 'colorid-sign-in-offered';

function show(section) {
  for (const id of ['signed-out', 'signed-in', 'step-up', 'loading']) $(id).hidden = id !== section;
}

function message(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

/** The relative luminance of an sRGB colour (WCAG 2). */
function luminance(rgb) {
  const [r, g, b] = [16, 8, 0].map((s) => {
    const c = ((rgb >> s) & 255) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white, whichever contrasts more with the background. */
function textColourFor(rgb) {
  const l = luminance(rgb);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

export function hexOf(n) {
  return '#' + Number(n).toString(16).padStart(6, '0');
}

function paint(n) {
  document.body.style.backgroundColor = hexOf(n);
  document.body.style.color = textColourFor(n);
}

function unpaint() {
  document.body.style.backgroundColor = '';
  document.body.style.color = '';
}

async function showSignedIn(user) {
  colorid.renderProfile($('profile'), user);
  let color;
  try {
    color = await colorid.api('/color');
  } catch (e) {
    if (e.code === 'insufficient_assurance') {
      $('required-level').textContent = e.body.required;
      $('current-level').textContent = user.acr || 'unknown';
      $('step-up-button').onclick = () => colorid.stepUp(e.body.required);
      show('step-up');
      return;
    }
    if (e.status === 401) return; // onLogout has already shown why.
    message(`Could not fetch your colour: ${e.message}`);
    return;
  }
  paint(color.yourColorIdentity);
  $('color-hex').textContent = hexOf(color.yourColorIdentity);
  $('user-identity').textContent = color.yourUserIdentity;
  $('level').textContent = color.level ?? 'not stated';
  show('signed-in');
  const list = $('attributes');
  list.replaceChildren();
  try {
    const attrs = await colorid.getAttributes(['Name', 'Email', 'DateOfBirth', 'Level']);
    for (const a of attrs) {
      const dt = document.createElement('dt');
      dt.textContent = a.name;
      const dd = document.createElement('dd');
      // The value's own pedigree is in its metadata; the definition echoes what was asked.
      const pedigree = (a.metadata ?? []).find((m) => m.name === 'pedigree')?.value;
      dd.textContent = `${a.value} (${pedigree === 'AUTHORITATIVE' ? 'verified' : 'self-asserted'})`;
      list.append(dt, dd);
    }
  } catch (e) {
    if (e.status !== 401) message(`Could not fetch your attributes: ${e.message}`);
  }
}

colorid.onLogout(({ reason }) => {
  unpaint();
  $('profile').replaceChildren();
  show('signed-out');
  if (reason === 'expired') message('Your session has expired, so you have been signed out. Please sign in again.');
});

$('login').onclick = () => colorid.login();
$('logout').onclick = () => colorid.logout();
$('check-age').onclick = async () => {
  $('age-result').textContent = 'Checking…';
  try {
    const v = await colorid.evaluate('Senior', 'Age >= 65');
    $('age-result').textContent = v === undefined ? 'No verified date of birth.' : `Age >= 65: ${v}`;
  } catch (e) {
    $('age-result').textContent = e.code === 'insufficient_assurance' ? `Needs ${e.body.required}.` : `Could not check: ${e.message}`;
  }
};

try {
  const resp = await fetch('/config.json', { cache: 'no-store' });
  cfg = await resp.json();
  $('test-idp').hidden = !cfg.testIdentityProvider;
  await colorid.init(cfg);
  const user = colorid.user();
  if (user) await showSignedIn(user);
  else if (cfg.signInOnLoad && !sessionStorage.getItem(AUTO_SIGN_IN)) {
    // Offered once per tab: after a cancel or a sign-out the visitor stays on the page.
    sessionStorage.setItem(AUTO_SIGN_IN, '1');
    await colorid.login();
  } else show('signed-out');
} catch (e) {
  show('signed-out');
  message(`The site could not start: ${e.message}`);
}
