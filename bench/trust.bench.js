// Benchmark: what issue 34 (promises that hold against an attacker) costs on the request path,
// as same-run ratios against an earlier build (paired rounds, order alternated): the gateway
// core (bench/servers/gateway.js) and the gateway with --auth jwt, a 100-rule policy and the
// hash-chained audit log (bench/servers/gateway-auth.js, plus the hygiene step in builds that
// have it), each build in front of one session server of this build on core 1. Then, in
// process, what normalizing one resource URI costs.
//
//   git worktree add /tmp/sg-baseline COMMIT && (cd /tmp/sg-baseline && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.build.json)
//   BASELINE=/tmp/sg-baseline/dist LABEL=db1dc34 node bench/trust.bench.js     (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10 CASES=core)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { machine, measureRunning, median, openSession, publish, settings, start } from './harness.js';

const baseline = process.env.BASELINE;
if (!baseline) throw new Error('BASELINE=/path/to/an/earlier/build/dist is required');
const label = process.env.LABEL ?? 'baseline';
const { normalizeResourceUri } = await import('../dist/protocol/resource-uri.js');

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'https://gateway.example.com/mcp';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
const token = await new SignJWT({ scope: 'mcp' })
  .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
  .setIssuer(ISSUER)
  .setAudience(AUDIENCE)
  .setSubject('user-7')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);
const rules = Array.from({ length: 99 }, (_, i) => ({ id: `r${i}`, effect: 'allow', subjects: [`user-${i}`], tools: [`tool_${i}`] }));
rules.push({ id: 'user-7-echo', effect: 'allow', subjects: ['user-7'], tools: ['echo'] });
const dir = mkdtempSync(join(tmpdir(), 'sg-trust-bench-'));

const upstream = await start('sessiongate.js', {}, 1);
const full = (audit) => ({
  UPSTREAM: upstream.url,
  JWKS: JSON.stringify(jwks),
  ISSUER,
  AUDIENCE,
  POLICY: JSON.stringify({ default: 'deny', rules }),
  AUDIT: join(dir, audit),
});
const bearer = (url) => openSession(url, { authorization: `Bearer ${token}` });
const CASES = [
  { name: 'core', script: 'gateway.js', env: { UPSTREAM: upstream.url }, open: openSession },
  { name: 'jwt + policy + audit', script: 'gateway-auth.js', env: full, open: bearer },
];
// CASES=core (or a comma list of names) runs only those.
const only = process.env.CASES?.split(',');
const results = [];
for (const { name, script, env, open } of CASES.filter((c) => !only || only.includes(c.name))) {
  const samples = { before: [], now: [] };
  for (let round = 1; round <= settings.rounds; round++) {
    for (const build of round % 2 === 1 ? ['before', 'now'] : ['now', 'before']) {
      const environment = typeof env === 'function' ? env(`${build}-${round}.jsonl`) : env;
      const server = await start(script, build === 'before' ? { ...environment, BASELINE_DIST: baseline } : environment);
      samples[build].push(await measureRunning(`${name} ${build}`, server, true, open));
    }
    console.error(
      `${name}, round ${round}: ${['before', 'now'].map((b) => `${b} ${samples[b].at(-1).cpu.toFixed(1)} µs CPU/req`).join('; ')}`,
    );
  }
  results.push({ name, samples });
}
await upstream.stop();
rmSync(dir, { recursive: true, force: true });

// Normalizing one resource URI (every resources/read and subscribe pays it; tools/call does not).
const uris = ['secret://vault/public/readme', 'file:///srv/data/../notes.md', 'SECRET://VAULT/a/%41/b', 'https://example.com/x?y=1'];
for (let i = 0; i < 100_000; i++) normalizeResourceUri(uris[i % 4]);
const timings = [];
for (let round = 0; round < 5; round++) {
  const begin = process.hrtime.bigint();
  for (let i = 0; i < 200_000; i++) normalizeResourceUri(uris[i % 4]);
  timings.push(Number(process.hrtime.bigint() - begin) / 1000 / 200_000);
}

const med = (list, key) => median(list.map((x) => x[key]));
const lines = [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one warm session; ${settings.rounds} rounds, order alternated, medians; ratios paired per round.`,
  '',
  '| gateway | build | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---|---:|---:|---:|---:|',
];
for (const { name, samples } of results)
  for (const build of ['before', 'now'])
    lines.push(
      `| ${name} | ${build === 'before' ? label : 'this build'} | ${Math.round(med(samples[build], 'rps'))} | ${med(samples[build], 'p99')} | ${med(samples[build], 'fullCpu').toFixed(1)} | ${med(samples[build], 'cpu').toFixed(1)} |`,
    );
lines.push('');
for (const { name, samples } of results) {
  const ratio = (key) => median(samples.now.map((x, i) => x[key] / samples.before[i][key]));
  lines.push(
    `${name}: this build / ${label}, CPU per request at equal load ${ratio('cpu').toFixed(3)}x (target <= 1.05), at full speed ${ratio('fullCpu').toFixed(3)}x, req/s ${ratio('rps').toFixed(3)}x.`,
  );
}
lines.push('', `Normalizing one resource URI, in process: ${median(timings).toFixed(2)} µs (median of 5 rounds of 200,000).`);
publish('trust.md', lines);
