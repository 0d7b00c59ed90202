// Benchmark: what the policy costs (issue 18). First, in this process, deciding one call
// against a 1,000-rule file (300 people with rules of their own, group rules, globs, argument
// schemas; target under 5 µs per call). Then the same gateway (--auth jwt, memory store) in
// front of the same upstream, on a warm session, with a 100-rule policy and without, order
// alternated round by round; ratios paired per round (target at most 1.10x).
//
//   node bench/policy.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { machine, measureRunning, median, openSession, publish, settings, start } from './harness.js';

const { compilePolicy, callerOf, callOf } = await import('../dist/policy/index.js');

/** `count` rules: per-person tool grants, a few denials, group rules, globs and argument schemas. */
function rules(count) {
  const list = [];
  for (let i = 0; list.length < count; i++) {
    const person = `user-${i % 300}`;
    const kind = i % 10;
    if (kind < 6) list.push({ id: `r${i}`, effect: 'allow', subjects: [person], tools: [`tool_${i % 50}`, `tool_${(i + 7) % 50}`] });
    else if (kind === 6) list.push({ id: `r${i}`, effect: 'deny', subjects: [person], tools: [`danger_${i % 20}`], reason: 'no' });
    else if (kind === 7) list.push({ id: `r${i}`, effect: 'allow', claims: { groups: `group-${i % 40}` }, tools: [`team_${i % 40}_*`] });
    else if (kind === 8)
      list.push({
        id: `r${i}`,
        effect: 'allow',
        subjects: [person],
        tools: ['echo'],
        arguments: { properties: { text: { maxLength: 100 } } },
      });
    else list.push({ id: `r${i}`, effect: 'approve', subjects: [person], resources: [`file:///home/${person}/*`] });
  }
  return { default: 'deny', rules: list };
}

// 1. Deciding one call, in process.
const big = compilePolicy(rules(1000));
const callers = Array.from({ length: 300 }, (_, i) =>
  callerOf({ claims: { sub: `user-${i}`, groups: [`group-${i % 40}`, 'staff'] } }, `p${i}`),
);
const calls = [
  callOf({ method: 'tools/call', params: { name: 'tool_7', arguments: {} } }),
  callOf({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } }),
  callOf({ method: 'tools/call', params: { name: 'team_3_deploy', arguments: {} } }),
  callOf({ method: 'tools/call', params: { name: 'danger_4', arguments: {} } }),
  callOf({ method: 'resources/read', params: { uri: 'file:///home/user-9/notes.md' } }),
  callOf({ method: 'tools/list' }),
];
const decideAll = (n) => {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (big.decide(callers[i % 300], calls[i % calls.length]).effect === 'allow') allowed++;
  return allowed;
};
decideAll(200_000); // warm-up
const evaluations = [];
for (let round = 0; round < 5; round++) {
  const begin = process.hrtime.bigint();
  decideAll(500_000);
  evaluations.push(Number(process.hrtime.bigint() - begin) / 1000 / 500_000);
}
const perCall = median(evaluations);
console.error(`1,000 rules: ${perCall.toFixed(2)} µs per decision (rounds ${evaluations.map((v) => v.toFixed(2)).join(', ')})`);

// 2. The gateway with a 100-rule policy and without.
const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'https://gateway.example.com/mcp';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
const token = await new SignJWT({ scope: 'mcp', groups: ['staff'] })
  .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
  .setIssuer(ISSUER)
  .setAudience(AUDIENCE)
  .setSubject('user-7')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);

const upstream = await start('sessiongate.js', {}, 1);
const jwtEnv = { UPSTREAM: upstream.url, JWKS: JSON.stringify(jwks), ISSUER, AUDIENCE };
const hundred = rules(100);
hundred.rules.push({ id: 'user-7-echo', effect: 'allow', subjects: ['user-7'], tools: ['echo'] });
const MODES = { none: jwtEnv, policy: { ...jwtEnv, POLICY: JSON.stringify(hundred) } };
const samples = { none: [], policy: [] };
for (let round = 1; round <= settings.rounds; round++) {
  for (const mode of round % 2 === 1 ? ['none', 'policy'] : ['policy', 'none']) {
    const server = await start('gateway-auth.js', MODES[mode]);
    samples[mode].push(await measureRunning(mode, server, true, (url) => openSession(url, { authorization: `Bearer ${token}` })));
  }
  console.error(`round ${round}: ` + ['none', 'policy'].map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req`).join('; '));
}
await upstream.stop();

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = (key) => median(samples.policy.map((x, i) => x[key] / samples.none[i][key]));
publish('policy.md', [
  machine(),
  `Deciding one call against a 1,000-rule policy, in process, 6 kinds of call by 300 people: ${perCall.toFixed(2)} µs (median of 5 rounds of 500,000; target < 5 µs).`,
  '',
  `Gateway (--auth jwt, memory store) to a session server on core 1, tools/call echo on one warm session, autocannon ${settings.connections} connections; ${settings.rounds} rounds, order alternated, medians; ratios paired per round.`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...['none', 'policy'].map(
    (m) =>
      `| ${m === 'none' ? 'no policy' : '100-rule policy'} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  `100-rule policy / none: CPU per request at equal load ${ratio('cpu').toFixed(3)}x (target <= 1.10), at full speed ${ratio('fullCpu').toFixed(3)}x, req/s ${ratio('rps').toFixed(3)}x.`,
]);
