// Benchmark: what federation costs (issue 21). The gateway in front of one server (today's
// single-upstream path) against a federation of the same server alone and of five servers,
// calls going to one of them, on a warm session; order rotated round by round, ratios paired
// per round (target: five federated at most 1.10x one server). Then tools/list, one call after
// another, through a federation of five servers of 100 tools each, against one server of 100
// tools through the plain gateway and directly.
//
//   node bench/federation.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { JSON_HEADERS, machine, measureRunning, median, openSession, publish, serialLatency, settings, start } from './harness.js';

const call = (name) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: { text: 'hello' } } });
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' });

const upstreams = [];
for (let i = 0; i < 5; i++) upstreams.push(await start('sessiongate.js', { TOOLS: '100' }, 1));
const urls = upstreams.map((upstream) => upstream.url);
const MODES = {
  'one server': { env: { UPSTREAMS: JSON.stringify([urls[2]]), PLAIN: '1' }, body: call('echo') },
  'federation of 1': { env: { UPSTREAMS: JSON.stringify([urls[2]]) }, body: call('s0__echo') },
  'federation of 5': { env: { UPSTREAMS: JSON.stringify(urls) }, body: call('s2__echo') },
};
const names = Object.keys(MODES);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 1; round <= settings.rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const server = await start('gateway-federated.js', MODES[name].env);
    samples[name].push(await measureRunning(name, server, true, openSession, MODES[name].body));
  }
  console.error(`round ${round}: ` + names.map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req`).join('; '));
}

// tools/list latency: 300 lists one after another on one connection, median.
const listLatency = async (url) => serialLatency(url, await openSession(url), 300, LIST);
const latency = { direct: [], 'one server': [], 'federation of 5': [] };
for (let round = 1; round <= settings.rounds; round++) {
  latency.direct.push(await listLatency(urls[2]));
  for (const name of ['one server', 'federation of 5']) {
    const server = await start('gateway-federated.js', MODES[name].env);
    latency[name].push(await listLatency(server.url));
    await server.stop();
  }
}
const sizes = {};
for (const name of ['one server', 'federation of 5']) {
  const server = await start('gateway-federated.js', MODES[name].env);
  const headers = await openSession(server.url);
  const answer = await (await fetch(server.url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: LIST })).text();
  sizes[name] = { tools: (answer.match(/"name":/g) ?? []).length, bytes: answer.length };
  await server.stop();
}
for (const upstream of upstreams) await upstream.stop();

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = (name, key) => median(samples[name].map((x, i) => x[key] / samples['one server'][i][key]));
publish('federation.md', [
  machine(),
  `Gateway (memory store) on core 0 to session servers on core 1, tools/call echo on one warm session, autocannon ${settings.connections} connections; ${settings.rounds} rounds, order rotated, medians; ratios paired per round.`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...names.map(
    (m) =>
      `| ${m} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  ...names
    .slice(1)
    .map(
      (m) =>
        `${m} / one server: CPU per request at equal load ${ratio(m, 'cpu').toFixed(3)}x${m.endsWith('5') ? ' (target <= 1.10)' : ''}, at full speed ${ratio(m, 'fullCpu').toFixed(3)}x, req/s ${ratio(m, 'rps').toFixed(3)}x.`,
    ),
  '',
  `tools/list, 300 one after another on one connection, median ms (median of ${settings.rounds} rounds):`,
  '',
  '| path | tools | bytes | p50 ms |',
  '|---|---:|---:|---:|',
  `| directly to one server of 100 tools | 100 | - | ${median(latency.direct).toFixed(3)} |`,
  `| gateway, one server of 100 tools | ${sizes['one server'].tools} | ${sizes['one server'].bytes} | ${median(latency['one server']).toFixed(3)} |`,
  `| gateway, federation of 5 servers of 100 tools | ${sizes['federation of 5'].tools} | ${sizes['federation of 5'].bytes} | ${median(latency['federation of 5']).toFixed(3)} |`,
]);
