// Benchmark: the session layer alone (trivial application) vs the official SDK's documented
// stateful pattern, with a raw node:http floor, all in the same run (see harness.js for how).
// Differences to the floor are paired per round, then the median is taken.
//
//   npm run bench:server     (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10 IDLE=100000)
import { idleHeapOverHttp, machine, median, publish, rounds, settings, start } from './harness.js';

const servers = [
  ['raw node:http (floor)', 'raw.js', false],
  ['sessiongate session server', 'sessiongate.js', true],
  ['SDK stateful pattern', 'sdk-stateful.js', true],
];
const samples = await rounds(servers);
const floor = samples.get('raw node:http (floor)');
const lines = [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one session; ${settings.rounds} rounds, medians. Full speed for ${settings.duration} s (req/s, latency, CPU), then ${settings.rate} req/s offered to every server for ${settings.duration} s (CPU at equal load).`,
  '',
  '| server | req/s | p50 ms | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load | over floor at equal load (paired median) |',
  '|---|---:|---:|---:|---:|---:|---:|',
];
for (const [name] of servers) {
  const s = samples.get(name);
  const over = name.startsWith('raw') ? '-' : '+' + median(s.map((x, i) => x.cpu - floor[i].cpu)).toFixed(1);
  lines.push(
    `| ${name} | ${Math.round(median(s.map((x) => x.rps)))} | ${median(s.map((x) => x.p50))} | ${median(s.map((x) => x.p99))} | ${median(s.map((x) => x.fullCpu)).toFixed(1)} | ${median(s.map((x) => x.cpu)).toFixed(1)} | ${over} |`,
  );
}

// Idle sessions: many in process through the full initialize path, and some over HTTP.
const ours = await start('sessiongate.js');
const base = await ours.heap();
const count = await ours.call('idle', settings.idle);
const inProcess = ((await ours.heap()) - base) / count;
await ours.stop();
lines.push('', '| idle sessions | heap per session |', '|---|---:|');
lines.push(`| sessiongate, memory store (${count.toLocaleString('en')} idle sessions) | ${(inProcess / 1024).toFixed(2)} KB |`);
for (const [name, script] of [
  ['sessiongate, memory store', 'sessiongate.js'],
  ['SDK stateful pattern', 'sdk-stateful.js'],
]) {
  const per = await idleHeapOverHttp(script, settings.httpIdle);
  lines.push(`| ${name} (${settings.httpIdle.toLocaleString('en')} idle sessions over HTTP) | ${(per / 1024).toFixed(2)} KB |`);
}
publish('session-server.md', lines);
