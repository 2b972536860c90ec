// The same verify-and-derive work as examples/bench.rs, with Node's jose:
// verify the token against a cached local JWKS, derive identity and colour
// with HMAC-SHA256, and serialise the JSON answer. Sequential, one thread.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const fixture = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const jwks = createLocalJWKSet(fixture.jwks);
const n = fixture.iterations;

async function handle(token) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer: fixture.issuer,
    audience: fixture.client_id,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    clockTolerance: 30,
  });
  const mac = (m) => createHmac('sha256', fixture.secret).update(m).digest();
  const user = mac(`user|${payload.iss}|${payload.sub}`).toString('base64url').slice(0, 22);
  const c = mac(`color|${payload.iss}|${payload.sub}`);
  return JSON.stringify({ yourUserIdentity: user, yourColorIdentity: (c[0] << 16) | (c[1] << 8) | c[2], level: null });
}

for (const { alg, token } of fixture.tokens) {
  for (let i = 0; i < 200; i++) await handle(token);
  const times = new Float64Array(n);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await handle(token);
    times[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  times.sort();
  const pct = (p) => times[Math.round((n - 1) * p)];
  console.log(JSON.stringify({ impl: 'jose', alg, ops_per_s: Math.round(n / total), p50_us: pct(0.5), p99_us: pct(0.99) }));
}
