// Benchmark: what a change on the request path costs, as a same-run ratio. The session server
// of this build against the same server of an earlier commit's build, alternated round by round
// on the same machine (harness.js), with a raw node:http floor.
//
//   git worktree add /tmp/sg-baseline COMMIT && (cd /tmp/sg-baseline && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.build.json)
//   BASELINE=/tmp/sg-baseline/dist LABEL="before X" npm run bench:baseline     (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
//
// TARGET=gateway compares the gateway instead (bench/servers/gateway.js, each build in front of
// one session server of this build on core 1); the floor is then that upstream reached directly.
// TARGET=sdk compares the SDK binding (bench/servers/sessiongate-sdk.js: an McpServer per session).
import { machine, median, publish, rounds, settings, start } from './harness.js';

const baseline = process.env.BASELINE;
if (!baseline) throw new Error('BASELINE=/path/to/an/earlier/build/dist is required');
const label = process.env.LABEL ?? 'baseline';
const target = process.env.TARGET ?? 'server';
const gateway = target === 'gateway';
const upstream = gateway ? await start('sessiongate.js', {}, 1) : undefined;
const [kind, script, env] = {
  server: ['session server', 'sessiongate.js', {}],
  gateway: ['gateway', 'gateway.js', { UPSTREAM: upstream?.url }],
  sdk: ['SDK binding', 'sessiongate-sdk.js', {}],
}[target];
const servers = [
  gateway ? ['the upstream reached directly (floor)', 'sessiongate.js', true] : ['raw node:http (floor)', 'raw.js', false],
  [`${kind}, ${label}`, script, true, { ...env, BASELINE_DIST: baseline }],
  [`${kind}, this build`, script, true, env],
];
const samples = await rounds(servers);
await upstream?.stop();
const [floor, before, now] = servers.map(([name]) => samples.get(name));
const ratio = (pick) => median(now.map((sample, i) => pick(sample) / pick(before[i])));
const lines = [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one session; ${settings.rounds} rounds, medians; ratios paired per round.`,
  '',
  '| server | req/s | p99 ms | CPU µs/req at equal load | over floor |',
  '|---|---:|---:|---:|---:|',
];
for (const [name, s] of [
  [servers[1][0], before],
  [servers[2][0], now],
]) {
  lines.push(
    `| ${name} | ${Math.round(median(s.map((x) => x.rps)))} | ${median(s.map((x) => x.p99))} | ${median(s.map((x) => x.cpu)).toFixed(1)} | +${median(s.map((x, i) => x.cpu - floor[i].cpu)).toFixed(1)} |`,
  );
}
lines.push(
  '',
  `This build / ${label}: CPU per request at equal load ${ratio((x) => x.cpu).toFixed(3)}x, over the floor ${median(now.map((x, i) => (x.cpu - floor[i].cpu) / (before[i].cpu - floor[i].cpu))).toFixed(3)}x; at full speed ${ratio((x) => x.fullCpu).toFixed(3)}x; req/s ${ratio((x) => x.rps).toFixed(3)}x.`,
);
publish(target === 'server' ? 'baseline.md' : `baseline-${target}.md`, lines);
