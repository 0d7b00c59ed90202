// Benchmark: what OpenTelemetry tracing costs the gateway (issue 39), the CLI as a user runs it
// (default flags, SQLite store) in the same run: `before`, the build of $BASELINE_CLI (the
// commit before tracing, its bin/sessiongate.js) when given; `off`, this build without --otel;
// `on`, this build with --otel to a collector that takes every export (a node:http sink in
// this process, OTLP http/protobuf, every request sampled: no parent, the default
// parentbased_always_on). Rounds with the order rotated; CPU per request at equal load, ratios
// paired per round; and `on, 10% sampled` (parentbased_traceidratio 0.1). Issue 39: off <= 1.02x
// before, on <= 1.15x off. bench/otel-sdk.bench.js measures the SDK's own part alone.
//
//   BASELINE_CLI=/tmp/sg-base/bin/sessiongate.js node bench/tracing.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, measureRunning, median, publish, settings, start } from './harness.js';
import { startCliGateway } from './processes.js';

const storeDir = mkdtempSync(join(tmpdir(), 'sg-tracing-bench-'));
let exported = 0;
const sink = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    exported++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const collector = `http://127.0.0.1:${sink.address().port}`;

const baseline = process.env.BASELINE_CLI;
const MODES = {
  ...(baseline && { before: { cli: baseline } }),
  off: {},
  on: { extraArgs: ['--otel', collector] },
  // What an operator who cannot pay for every request samples: one in ten.
  'on, 10% sampled': {
    extraArgs: ['--otel', collector],
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  },
};
// MODES=before,off runs only those (a tighter paired comparison).
const names = Object.keys(MODES).filter((name) => !process.env.MODES || process.env.MODES.split(',').includes(name));
const samples = Object.fromEntries(names.map((name) => [name, []]));
const upstream = await start('sessiongate.js', {}, 1);
for (let round = 1; round <= settings.rounds; round++) {
  const order = [...names.slice((round - 1) % names.length), ...names.slice(0, (round - 1) % names.length)];
  for (const mode of order) {
    const gateway = await startCliGateway(upstream.url, join(storeDir, `${mode}-${round}.db`), MODES[mode]);
    samples[mode].push(await measureRunning(mode, gateway, true));
  }
  console.error(`round ${round}: ` + names.map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req`).join('; '));
}
await upstream.stop();
sink.close();
rmSync(storeDir, { recursive: true, force: true });

const med = (list, key) => median(list.map((x) => x[key]));
const paired = (of, to, key) => median(samples[of].map((x, i) => x[key] / samples[to][i][key]));
publish('tracing.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one session through \`sessiongate --upstream URL\` (SQLite store, its own process on core 0) to a session server on core 1; ${settings.rounds} rounds, order rotated, medians; ratios paired per round. The collector took ${exported} exports.`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...names.map(
    (m) =>
      `| ${m} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  ...(baseline
    ? [
        `off / before, CPU per request: at equal load ${paired('off', 'before', 'cpu').toFixed(3)}x, at full speed ${paired('off', 'before', 'fullCpu').toFixed(3)}x (issue 39: at most 1.02x).`,
      ]
    : []),
  ...(names.includes('on')
    ? [
        `on / off, CPU per request: at equal load ${paired('on', 'off', 'cpu').toFixed(3)}x, at full speed ${paired('on', 'off', 'fullCpu').toFixed(3)}x (issue 39: at most 1.15x).`,
        `on, 10% sampled / off: at equal load ${paired('on, 10% sampled', 'off', 'cpu').toFixed(3)}x, at full speed ${paired('on, 10% sampled', 'off', 'fullCpu').toFixed(3)}x.`,
      ]
    : []),
]);
