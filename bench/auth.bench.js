// Benchmark: what knowing the caller costs the gateway (issue 17). The same gateway in front of
// the same upstream, on a warm session, with `--auth none` (the raw Authorization header
// hashed), `jwt` (jwtAuthenticator: each token verified once, then remembered until it
// expires), `api-keys` (apiKeyAuthenticator: a SHA-256 and a look-up per request) and `jwt`
// with `--upstream-token-exchange` (a token per person, held: the warm path is a look-up; the
// exchange endpoint is served by this process) and `oauth` (the gateway's own tokens: the
// signature once per token, the grant's family in the store on every request; issue 37 asks at
// most 1.05x of jwt), `jwt+credentials` (each person's own upstream token from the vault,
// issue 38) against `jwt+static-header` (one fixed upstream Authorization; at most 1.05x), in an
// order rotated round by round; ratios to
// `none` paired per round. Then, in this process, the cold cost: verifying tokens never seen
// before, against the cached path.
//
//   node bench/auth.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { machine, measureRunning, median, openSession, publish, settings, start } from './harness.js';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'https://gateway.example.com/mcp';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
const sign = (sub) =>
  new SignJWT({ scope: 'mcp' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
const token = await sign('alice');

// A token exchange endpoint (RFC 8693) that grants every request: the gateway holds what it gets.
const exchanges = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: 'upstream-token', token_type: 'Bearer', expires_in: 3600 })),
  );
});
await new Promise((resolve) => exchanges.listen(0, '127.0.0.1', resolve));
const exchangeUrl = `http://127.0.0.1:${exchanges.address().port}/token`;

const { newApiKey } = await import('../dist/auth/index.js');
const apiKey = newApiKey();
const upstream = await start('sessiongate.js', {}, 1);
const env = { UPSTREAM: upstream.url };
const jwtEnv = { ...env, JWKS: JSON.stringify(jwks), ISSUER, AUDIENCE };
const MODES = {
  none: { env, credential: token },
  jwt: { env: jwtEnv, credential: token },
  'api-keys': { env: { ...env, API_KEY_SHA256: apiKey.sha256 }, credential: apiKey.key },
  'jwt+exchange': { env: { ...jwtEnv, EXCHANGE_URL: exchangeUrl }, credential: token },
};
// Issue 38: each person's own upstream token (the broker's look-up, its stage) against one static Authorization.
MODES['jwt+static-header'] = { env: { ...jwtEnv, STATIC_AUTHORIZATION: 'Bearer shared-upstream-token' }, credential: token };
MODES['jwt+credentials'] = { env: { ...jwtEnv, CREDENTIALS: '1' }, credential: token };
const tokenFile = join(mkdtempSync(join(tmpdir(), 'sg-bench-oauth-')), 'token');
MODES.oauth = { env: { ...env, OAUTH_TOKEN_FILE: tokenFile, AUDIENCE }, credential: undefined };
// MODES=jwt,oauth runs only those (a tighter paired comparison); `none` is always run, as the ratios' base.
const names = ['none', ...(process.env.MODES?.split(',').filter((m) => m in MODES && m !== 'none') ?? Object.keys(MODES).slice(1))];
const samples = Object.fromEntries(names.map((name) => [name, []]));
const modes = names.filter((m) => m !== 'none');
for (let round = 1; round <= settings.rounds; round++) {
  const order = [...names.slice((round - 1) % names.length), ...names.slice(0, (round - 1) % names.length)];
  for (const mode of order) {
    const server = await start('gateway-auth.js', MODES[mode].env);
    const credential = MODES[mode].credential ?? readFileSync(tokenFile, 'utf8');
    samples[mode].push(await measureRunning(mode, server, true, (url) => openSession(url, { authorization: `Bearer ${credential}` })));
  }
  console.error(
    `round ${round}: ` + names.map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req at ${settings.rate} req/s`).join('; '),
  );
}
await upstream.stop();
exchanges.close();

// Cold and warm verification in this process (not pinned): fresh tokens each verified once.
const { jwtAuthenticator } = await import('../dist/auth/index.js');
const verify = jwtAuthenticator({ jwks, issuers: [ISSUER], audiences: [AUDIENCE], resourceMetadataUrl: 'http://x/' });
const fresh = await Promise.all(Array.from({ length: 2000 }, (_, i) => sign(`user-${i}`)));
const view = (t) => ({ header: (name) => (name === 'authorization' ? `Bearer ${t}` : undefined) });
for (const t of fresh.slice(0, 200)) await verify(view(t)); // warm-up of the code paths
const timed = async (tokens) => {
  const begin = process.hrtime.bigint();
  for (const t of tokens) await verify(view(t));
  return Number(process.hrtime.bigint() - begin) / 1000 / tokens.length;
};
const cold = await timed(fresh.slice(200));
const warm = await timed(fresh.slice(200));

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = (mode, key) => median(samples[mode].map((x, i) => x[key] / samples.none[i][key]));
publish('auth.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one warm session through the gateway (memory store) to a session server on core 1; ${settings.rounds} rounds, order rotated, medians; ratios to --auth none paired per round.`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load | CPU vs none, equal load | CPU vs none, full speed |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...names.map(
    (m) =>
      `| --auth ${m} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} | ${m === 'none' ? '1' : `${ratio(m, 'cpu').toFixed(3)}x`} | ${m === 'none' ? '1' : `${ratio(m, 'fullCpu').toFixed(3)}x`} |`,
  ),
  '',
  `Target: each at most 1.10x --auth none at equal load. ${modes.map((m) => `${m}: ${ratio(m, 'cpu').toFixed(3)}x`).join(', ')}.`,
  ...(samples.oauth?.length && samples.jwt?.length
    ? [
        `oauth / jwt, CPU per request paired per round: at equal load ${median(samples.oauth.map((x, i) => x.cpu / samples.jwt[i].cpu)).toFixed(3)}x, at full speed ${median(samples.oauth.map((x, i) => x.fullCpu / samples.jwt[i].fullCpu)).toFixed(3)}x (issue 37: at most 1.05x).`,
      ]
    : []),
  ...(samples['jwt+credentials']?.length && samples['jwt+static-header']?.length
    ? [
        `jwt+credentials / jwt+static-header, CPU per request paired per round: at equal load ${median(samples['jwt+credentials'].map((x, i) => x.cpu / samples['jwt+static-header'][i].cpu)).toFixed(3)}x, at full speed ${median(samples['jwt+credentials'].map((x, i) => x.fullCpu / samples['jwt+static-header'][i].fullCpu)).toFixed(3)}x (issue 38: at most 1.05x).`,
      ]
    : []),
  `A token's first use (RS256 signature, claims, in this process): ${cold.toFixed(1)} µs; each later use (its SHA-256 looked up): ${warm.toFixed(1)} µs.`,
]);
