// Benchmark: what verifying bearer tokens costs the gateway (issue 17). The same gateway in
// front of the same upstream, on a warm session, with `--auth jwt` (jwtAuthenticator: each
// token verified once, then remembered until it expires) and with `--auth none` (the raw
// Authorization header hashed), alternated round by round; ratios paired per round. Then, in
// this process, the cold cost: verifying tokens never seen before, against the cached path.
//
//   node bench/auth.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { JSON_HEADERS, INIT, machine, measureRunning, median, publish, settings, start } from './harness.js';

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

/** A session opened with the bearer token, which every later request carries too. */
async function authorizedSession(url) {
  const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(INIT) });
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (!id) throw new Error(`no session from ${url}: ${response.status}`);
  const session = { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await (await fetch(url, { method: 'POST', headers: session, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' })).text();
  return session;
}

const upstream = await start('sessiongate.js', {}, 1);
const env = { UPSTREAM: upstream.url };
const jwtEnv = { ...env, JWKS: JSON.stringify(jwks), ISSUER, AUDIENCE };
const samples = { none: [], jwt: [] };
for (let round = 1; round <= settings.rounds; round++) {
  const order = round % 2 === 1 ? ['none', 'jwt'] : ['jwt', 'none'];
  for (const mode of order) {
    const server = await start('gateway-auth.js', mode === 'jwt' ? jwtEnv : env);
    samples[mode].push(await measureRunning(mode, server, true, authorizedSession));
  }
  console.error(
    `round ${round}: ` +
      ['none', 'jwt']
        .map(
          (m) =>
            `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req at ${settings.rate} req/s, ${Math.round(samples[m].at(-1).rps)} req/s`,
        )
        .join('; '),
  );
}
await upstream.stop();

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
const ratio = (key) => median(samples.jwt.map((x, i) => x[key] / samples.none[i][key]));
publish('auth.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one warm session through the gateway (memory store) to a session server on core 1; ${settings.rounds} rounds, order alternated, medians; ratios paired per round.`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...['none', 'jwt'].map(
    (m) =>
      `| --auth ${m} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  `--auth jwt / --auth none: CPU per request at equal load ${ratio('cpu').toFixed(3)}x (target <= 1.10), at full speed ${ratio('fullCpu').toFixed(3)}x, req/s ${ratio('rps').toFixed(3)}x.`,
  `A token's first use (RS256 signature, claims, in this process): ${cold.toFixed(1)} µs; each later use (its SHA-256 looked up): ${warm.toFixed(1)} µs.`,
]);
