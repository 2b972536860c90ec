// The same verify-and-derive work as jose.mjs with the other fast Node verifiers:
// fast-jwt without its verified-token cache and with it (`fast-jwt-cached`, which
// serves a repeated token from the cache), and aws-jwt-verify (JWKS cached with
// cacheJwks, verifySync; it has no token cache). Keys come from the same JWKS, chosen
// by the token's `kid`. Prints one JSON line per verifier and algorithm. Sequential,
// one thread, the same token every time.
import { createHmac, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createVerifier } from 'fast-jwt';
import { JwtVerifier } from 'aws-jwt-verify';

const fixture = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const n = fixture.iterations;

const derive = (payload) => {
  const mac = (m) => createHmac('sha256', fixture.secret).update(m).digest();
  const user = mac(`user|${payload.iss}|${payload.sub}`).toString('base64url').slice(0, 22);
  const c = mac(`color|${payload.iss}|${payload.sub}`);
  return JSON.stringify({ yourUserIdentity: user, yourColorIdentity: (c[0] << 16) | (c[1] << 8) | c[2], level: null });
};

// fast-jwt: one verifier per key (it takes a PEM), picked by kid like a JWKS lookup.
const fastVerifiers = (cache) => {
  const byKid = new Map();
  for (const jwk of fixture.jwks.keys) {
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const alg = { RSA: 'RS256', EC: 'ES256', OKP: 'EdDSA' }[jwk.kty];
    byKid.set(jwk.kid, createVerifier({
      key: pem, algorithms: [alg], allowedIss: fixture.issuer, allowedAud: fixture.client_id,
      cache, clockTolerance: 30000,
    }));
  }
  return byKid;
};
const fast = fastVerifiers(false);
const fastCached = fastVerifiers(true);
const kidOf = (token) => JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url')).kid;

const aws = JwtVerifier.create({
  issuer: fixture.issuer, audience: fixture.client_id, jwksUri: `${fixture.issuer}jwks`, graceSeconds: 30,
});
aws.cacheJwks(fixture.jwks);

const impls = {
  'fast-jwt': (token) => derive(fast.get(kidOf(token))(token)),
  'fast-jwt-cached': (token) => derive(fastCached.get(kidOf(token))(token)),
  'aws-jwt-verify': (token) => derive(aws.verifySync(token)),
};

for (const [name, handle] of Object.entries(impls)) {
  for (const { alg, token } of fixture.tokens) {
    for (let i = 0; i < 200; i++) handle(token);
    const times = new Float64Array(n);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      handle(token);
      times[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    const total = Number(process.hrtime.bigint() - start) / 1e9;
    times.sort();
    const pct = (p) => times[Math.round((n - 1) * p)];
    console.log(JSON.stringify({ impl: name, alg, ops_per_s: Math.round(n / total), p50_us: pct(0.5), p99_us: pct(0.99) }));
  }
}
