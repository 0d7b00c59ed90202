// Benchmark: an HTTP upstream reached directly vs through sessiongate's gateway, in the same
// run. The upstream is sessiongate's session server with a trivial application (so the
// gateway's own cost is not hidden behind a slow server). Direct: upstream on core 0. Through
// the gateway: gateway on core 0 (its CPU per proxied request is what is reported), upstream on
// core 1 with the load generator. Rounds alternate; medians; differences paired per round.
//
//   npm run bench:gateway    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { machine, measure, median, publish, settings, start } from './harness.js';

const direct = [];
const through = [];
const upstream = await start('sessiongate.js', {}, 1);
for (let round = 1; round <= settings.rounds; round++) {
  direct.push(await measure('direct', 'sessiongate.js', true));
  through.push(await measure('gateway', 'gateway.js', true, { UPSTREAM: upstream.url }));
  const [d, g] = [direct.at(-1), through.at(-1)];
  console.error(
    `round ${round}: direct ${Math.round(d.rps)} req/s p50 ${d.p50} ms; gateway ${Math.round(g.rps)} req/s p50 ${g.p50} ms, ${g.cpu.toFixed(1)} µs CPU/req at ${settings.rate} req/s`,
  );
}
await upstream.stop();

const row = (name, s) =>
  `| ${name} | ${Math.round(median(s.map((x) => x.rps)))} | ${median(s.map((x) => x.p50))} | ${median(s.map((x) => x.p99))} | ${median(s.map((x) => x.fullCpu)).toFixed(1)} | ${median(s.map((x) => x.cpu)).toFixed(1)} |`;
publish('gateway.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one session; ${settings.rounds} rounds, medians. Full speed for ${settings.duration} s, then ${settings.rate} req/s for ${settings.duration} s (CPU at equal load).`,
  '',
  '| path | req/s | p50 ms | p99 ms | CPU µs/req of the measured process, full speed | same, at equal load |',
  '|---|---:|---:|---:|---:|---:|',
  row('direct to the upstream (upstream process measured)', direct),
  row('through the gateway (gateway process measured)', through),
  '',
  `gateway CPU per proxied request at equal load (median): ${median(through.map((x) => x.cpu)).toFixed(1)} µs (target < 60)`,
  `added p50 latency at full speed (paired median): ${median(through.map((x, i) => x.p50 - direct[i].p50)).toFixed(2)} ms (target < 0.5; autocannon reports whole ms)`,
]);
