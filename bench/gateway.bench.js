// Benchmark: an HTTP upstream reached directly vs through sessiongate's gateway, in the same
// run. The upstream is sessiongate's session server with a trivial application (so the
// gateway's own cost is not hidden behind a slow server). Direct: upstream on core 0. Through
// the gateway: gateway on core 0 (its CPU per proxied request is what is reported), upstream on
// core 1 with the load generator. When nginx is installed, nginx `proxy_pass` in the gateway's
// place gives the floor of what proxying costs here, and bench/servers/node-proxy.js (node:http
// + undici forwarding bytes) the floor for a Node proxy. Rounds alternate; medians.
//
//   npm run bench:gateway    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, measure, measureRunning, median, publish, settings, start } from './harness.js';
import { hasNginx, startNginx } from './nginx.js';
import { startCliGateway } from './processes.js';

const storeDir = mkdtempSync(join(tmpdir(), 'sg-gateway-bench-'));

const withNginx = hasNginx();
const samples = { direct: [], gateway: [], cli: [], node: [], nginx: [] };
const upstream = await start('sessiongate.js', {}, 1);
for (let round = 1; round <= settings.rounds; round++) {
  samples.direct.push(await measure('direct', 'sessiongate.js', true));
  samples.gateway.push(await measure('gateway', 'gateway.js', true, { UPSTREAM: upstream.url }));
  samples.cli.push(await measureRunning('cli', await startCliGateway(upstream.url, join(storeDir, `${round}.db`)), true));
  samples.node.push(await measure('node floor', 'node-proxy.js', true, { UPSTREAM: upstream.url }));
  if (withNginx) samples.nginx.push(await measureRunning('nginx', await startNginx(upstream.url), true));
  console.error(
    `round ${round}: ` +
      Object.entries(samples)
        .filter(([, list]) => list.length === round)
        .map(([name, list]) => {
          const s = list.at(-1);
          return `${name} ${Math.round(s.rps)} req/s, serial p50 ${s.serialP50.toFixed(3)} ms, ${s.cpu.toFixed(1)} µs CPU/req at ${settings.rate} req/s`;
        })
        .join('; '),
  );
}
await upstream.stop();
rmSync(storeDir, { recursive: true, force: true });

const med = (list, key) => median(list.map((x) => x[key]));
const row = (name, list) =>
  `| ${name} | ${Math.round(med(list, 'rps'))} | ${med(list, 'p50')} | ${med(list, 'p99')} | ${med(list, 'serialP50').toFixed(3)} | ${med(list, 'fullCpu').toFixed(1)} | ${med(list, 'cpu').toFixed(1)} |`;
const ratioTo = (list, of = samples.gateway) => median(of.map((x, i) => x.cpu / list[i].cpu));
const added = (list) => median(list.map((x, i) => x.serialP50 - samples.direct[i].serialP50));
publish('gateway.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo on one session; ${settings.rounds} rounds, medians. Full speed for ${settings.duration} s, then ${settings.rate} req/s for ${settings.duration} s (CPU at equal load), then 2,000 calls one after another on one connection (serial p50, sub-ms clock).`,
  '',
  '| path | req/s | p50 ms | p99 ms | serial p50 ms | CPU µs/req of the measured process, full speed | same, at equal load |',
  '|---|---:|---:|---:|---:|---:|---:|',
  row('direct to the upstream (upstream process measured)', samples.direct),
  row('through the gateway core: session server + httpUpstream (gateway process measured)', samples.gateway),
  row('through `sessiongate --upstream URL`, default flags, SQLite store (CLI process measured)', samples.cli),
  row('through the Node floor, node:http + undici forwarding bytes (proxy measured)', samples.node),
  ...(withNginx ? [row('through nginx proxy_pass (nginx worker measured)', samples.nginx)] : []),
  '',
  `gateway CPU per proxied request at equal load (median): ${med(samples.gateway, 'cpu').toFixed(1)} µs (target < 60)`,
  ...(withNginx ? [`nginx CPU per proxied request at equal load (median): ${med(samples.nginx, 'cpu').toFixed(1)} µs (the floor)`] : []),
  `CLI with default flags / Node floor, CPU per request at equal load (paired median): ${ratioTo(samples.node, samples.cli).toFixed(2)}x${withNginx ? `; / nginx ${ratioTo(samples.nginx, samples.cli).toFixed(2)}x` : ''}`,
  `gateway core / Node floor, CPU per request at equal load (paired median): ${ratioTo(samples.node).toFixed(2)}x${withNginx ? `; gateway / nginx ${ratioTo(samples.nginx).toFixed(2)}x; Node floor / nginx ${median(samples.node.map((x, i) => x.cpu / samples.nginx[i].cpu)).toFixed(2)}x` : ''}`,
  `added latency, serial p50 (paired median): gateway ${added(samples.gateway).toFixed(3)} ms (target < 0.5)${withNginx ? `, nginx ${added(samples.nginx).toFixed(3)} ms` : ''}`,
]);
