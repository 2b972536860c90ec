// The sign-in callback: finishes the code flow and returns to where sign-in began.
// A file rather than an inline script, so the Content-Security-Policy allows no inline script.
import { initFromSite, handleCallback } from '/colorid.js';

try {
  await initFromSite();
  const back = await handleCallback();
  location.replace(back);
} catch (e) {
  document.querySelector('h1').textContent = 'Sign-in did not complete';
  document.getElementById('status').textContent = e.message;
}
