// Benchmark: what the gateway adds to a large answer (issue 36: an 18 KB `tools/list`, target
// under 0.5 ms). One upstream of 100 tools (the session server, core 1) reached directly,
// through the gateway core (bench/servers/gateway.js), through `sessiongate --upstream URL` with
// default flags (SQLite store), and through the Node floor (node:http + undici forwarding
// bytes), each on core 0. The upstream is warmed first with 5 x $WARMUP lists, and each path
// with $WARMUP (every path's code compiled, as in a running deployment), then
// $COUNT lists one after another on one keep-alive connection, median; $ROUNDS rounds in
// rotated order, added latency paired per round against the direct path of the same round.
//
// BASELINE=/path/to/an/earlier/build/dist adds that build's gateway core as a path of its own.
//
//   node bench/list-latency.bench.js    (ROUNDS=5 WARMUP=1000 COUNT=500 BASELINE=)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, median, openSession, publish, serialLatency, settings, start } from './harness.js';
import { startCliGateway } from './processes.js';

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
const WARMUP = Number(process.env.WARMUP ?? 1000);
const COUNT = Number(process.env.COUNT ?? 500);
const storeDir = mkdtempSync(join(tmpdir(), 'sg-list-bench-'));

const upstream = await start('sessiongate.js', { TOOLS: '100' }, 1);
const PATHS = {
  direct: async () => ({ url: upstream.url, stop: async () => {} }),
  'gateway core': () => start('gateway.js', { UPSTREAM: upstream.url }, 0),
  'sessiongate --upstream URL (default flags)': (round) => startCliGateway(upstream.url, join(storeDir, `${round}.db`)),
  'Node floor': () => start('node-proxy.js', { UPSTREAM: upstream.url }, 0),
  ...(process.env.BASELINE && {
    [`gateway core, ${process.env.LABEL ?? 'baseline'}`]: () =>
      start('gateway.js', { UPSTREAM: upstream.url, BASELINE_DIST: process.env.BASELINE }, 0),
  }),
};
// The upstream itself keeps getting faster for thousands of requests (its handling of one list
// fell from 0.21 to 0.05 ms over 4,500 in one process): warmed first, so that the path measured
// first in a round is not the one that pays for the upstream's compilation.
{
  const headers = await openSession(upstream.url);
  await serialLatency(upstream.url, headers, 5 * WARMUP, LIST);
}
const names = Object.keys(PATHS);
const samples = Object.fromEntries(names.map((name) => [name, []]));
let bytes = 0;
for (let round = 1; round <= settings.rounds; round++) {
  for (const name of names.map((_, i) => names[(i + round) % names.length])) {
    const server = await PATHS[name](round);
    const headers = await openSession(server.url);
    const answer = await (await fetch(server.url, { method: 'POST', headers, body: LIST })).text();
    if (!answer.includes('"tools"')) throw new Error(`${name}: wrong answer ${answer.slice(0, 200)}`);
    bytes = answer.length;
    await serialLatency(server.url, headers, WARMUP, LIST);
    samples[name].push(await serialLatency(server.url, headers, COUNT, LIST));
    await server.stop();
  }
  console.error(`round ${round}: ` + names.map((name) => `${name} ${samples[name].at(-1).toFixed(3)} ms`).join('; '));
}
await upstream.stop();
rmSync(storeDir, { recursive: true, force: true });

const added = (name) => median(samples[name].map((ms, i) => ms - samples.direct[i]));
publish('list-latency.md', [
  machine(),
  `tools/list of 100 tools (${bytes} bytes), ${WARMUP} lists to warm each path, then ${COUNT} one after another on one connection, median; ${settings.rounds} rounds, order rotated; added latency paired per round.`,
  '',
  '| path | p50 ms | added ms (paired median) |',
  '|---|---:|---:|',
  ...names.map((name) => `| ${name} | ${median(samples[name]).toFixed(3)} | ${name === 'direct' ? '-' : added(name).toFixed(3)} |`),
  '',
  'Target (issue 36): the gateway adds under 0.5 ms.',
]);
