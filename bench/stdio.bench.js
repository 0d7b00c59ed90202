// Benchmark: a stdio MCP server behind HTTP, sessiongate (`--stdio`) vs supergateway 4.0.0
// (`--stateful`), same run, same server (bench/servers/stdio-echo.js, an official SDK
// McpServer). Per gateway: req/s and the gateway process's CPU per request on one session;
// initialize latency one at a time and with 20 clients at once; memory (PSS of the gateway and
// every process below it) per session; and processes left after 200 sessions idle-expire.
// supergateway is installed apart, in bench/peers (npm ci there on first run).
//
//   npm run bench:stdio    (ROUNDS=3 DURATION=5)
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CALL, INIT, JSON_HEADERS, machine, median, openSession, publish, settings } from './harness.js';
import { cpuMicros, descendants, pss, startListening } from './processes.js';

const peers = new URL('./peers/', import.meta.url);
if (!existsSync(new URL('node_modules/supergateway/', peers))) {
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: peers, stdio: 'inherit' });
}
const SUPERGATEWAY = new URL('node_modules/supergateway/dist/index.js', peers).pathname;
const SESSIONGATE = new URL('../bin/sessiongate.js', import.meta.url).pathname;
const SERVER = `${process.execPath} ${new URL('./servers/stdio-echo.js', import.meta.url).pathname}`;
const SPARES = 2;

const gateways = {
  sessiongate: (port, idleMs) => [
    SESSIONGATE,
    ['--port', port, '--store', 'memory', '--stdio', SERVER, '--idle-timeout', `${idleMs}ms`, '--spares', String(SPARES)],
  ],
  'supergateway 4.0.0': (port, idleMs) => [
    SUPERGATEWAY,
    [
      '--stdio',
      SERVER,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--sessionTimeout',
      String(idleMs),
      '--port',
      port,
      '--logLevel',
      'none',
    ],
  ],
};

let nextPort = 39400 + Math.floor(Math.random() * 500);
async function launch(name, idleMs = 30 * 60_000) {
  const port = String(nextPort++);
  const [script, args] = gateways[name](port, idleMs);
  const url = `http://127.0.0.1:${port}/mcp`;
  const gateway = await startListening(process.execPath, [script, ...args], url);
  return { ...gateway, url };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Time to an initialize answer (body read), in ms; then the session is completed (untimed). */
async function initializeMs(url) {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(INIT) });
  const body = await response.text();
  const elapsed = performance.now() - started;
  const id = response.headers.get('mcp-session-id');
  if (!id || !body.includes('protocolVersion')) throw new Error(`initialize failed: ${response.status} ${body}`);
  const headers = { ...JSON_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await (
    await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  ).text();
  return elapsed;
}

// Each call gets its own id: calls run concurrently in one session, and a session refuses an id
// still in flight (409, SG_REQUEST_ID_IN_USE, since 2026-11-22; this benchmark predates that).
let nextId = 100;
const load = (url, headers, duration) =>
  autocannon({
    url,
    method: 'POST',
    headers,
    connections: settings.connections,
    duration,
    requests: [{ setupRequest: (request) => ({ ...request, body: CALL.replace('"id":2', `"id":${nextId++}`) }) }],
  });

async function throughput(name) {
  const gateway = await launch(name);
  const headers = await openSession(gateway.url);
  const probe = await (await fetch(gateway.url, { method: 'POST', headers, body: CALL })).text();
  if (!probe.includes('hello')) throw new Error(`${name}: wrong answer ${probe}`);
  await load(gateway.url, headers, 2); // warm-up
  const before = cpuMicros(gateway.pid);
  const result = await load(gateway.url, headers, settings.duration);
  const cpu = (cpuMicros(gateway.pid) - before) / result.requests.total;
  await gateway.stop();
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpu };
}

async function initializeAndMemory(name) {
  const gateway = await launch(name);
  await sleep(3000); // spares (sessiongate) up
  const baseline = pss([gateway.pid, ...descendants(gateway.pid)]);
  const one = [];
  for (let i = 0; i < 15; i++) {
    one.push(await initializeMs(gateway.url));
    await sleep(500); // unloaded: each client arrives alone
  }
  const burst = await Promise.all(Array.from({ length: 20 }, () => initializeMs(gateway.url)));
  await sleep(2000);
  const sessions = one.length + burst.length;
  const perSession = (pss([gateway.pid, ...descendants(gateway.pid)]) - baseline) / sessions;
  const processes = descendants(gateway.pid).length;
  await gateway.stop();
  burst.sort((a, b) => a - b);
  return { one: median(one), burst50: median(burst), burstMax: burst.at(-1), perSession, processes, sessions };
}

async function idleExpiry(name) {
  // Long enough that no session expires while the 200 are still being opened (child starts).
  const idleMs = 15_000;
  const gateway = await launch(name, idleMs);
  for (let made = 0; made < 200; made += 20) await Promise.all(Array.from({ length: 20 }, () => openSession(gateway.url)));
  const peak = descendants(gateway.pid).length;
  // Every session is idle now; give expiry its window plus generous slack.
  const deadline = Date.now() + idleMs + 30_000;
  let left = descendants(gateway.pid).length;
  while (Date.now() < deadline && left > SPARES) {
    await sleep(500);
    left = descendants(gateway.pid).length;
  }
  await gateway.stop();
  return { peak, left };
}

const names = Object.keys(gateways);
const speed = new Map(names.map((name) => [name, []]));
for (let round = 1; round <= settings.rounds; round++) {
  for (const name of names) {
    const sample = await throughput(name);
    speed.get(name).push(sample);
    console.error(`round ${round}: ${name}: ${Math.round(sample.rps)} req/s, p99 ${sample.p99} ms, ${sample.cpu.toFixed(1)} µs CPU/req`);
  }
}
const startup = new Map();
const expiry = new Map();
for (const name of names) {
  startup.set(name, await initializeAndMemory(name));
  console.error(`${name}: initialize ${JSON.stringify(startup.get(name))}`);
  expiry.set(name, await idleExpiry(name));
  console.error(`${name}: idle expiry ${JSON.stringify(expiry.get(name))}`);
}

const med = (name, key) => median(speed.get(name).map((sample) => sample[key]));
const ms = (value) => value.toFixed(1);
publish('stdio.md', [
  machine(false),
  `Same stdio server for both (an SDK McpServer, echo tool), gateway on the memory store / in memory; ${settings.rounds} rounds of ${settings.duration} s, ${settings.connections} connections, one session, medians. CPU: the gateway process only (the server child does the same work under both).`,
  '',
  '| gateway | req/s, one session | p50 ms | p99 ms | gateway CPU µs/req | initialize p50 ms, one at a time | initialize p50 / max ms, 20 at once | PSS per session | processes per session | processes left after 200 sessions idle-expire |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...names.map((name) => {
    const s = startup.get(name);
    const e = expiry.get(name);
    const perSession = (s.processes - (name === 'sessiongate' ? SPARES : 0)) / s.sessions;
    return `| ${name} | ${Math.round(med(name, 'rps'))} | ${med(name, 'p50')} | ${med(name, 'p99')} | ${med(name, 'cpu').toFixed(1)} | ${ms(s.one)} | ${ms(s.burst50)} / ${ms(s.burstMax)} | ${(s.perSession / 2 ** 20).toFixed(1)} MB | ${perSession.toFixed(1)} | ${e.left}${name === 'sessiongate' ? ` (the ${SPARES} spares)` : ''} of ${e.peak} |`;
  }),
  '',
  `req/s ratio sessiongate / supergateway: ${(med('sessiongate', 'rps') / med(names[1], 'rps')).toFixed(2)}x (target >= 2x)`,
  `CPU per request ratio supergateway / sessiongate: ${(med(names[1], 'cpu') / med('sessiongate', 'cpu')).toFixed(2)}x`,
]);
