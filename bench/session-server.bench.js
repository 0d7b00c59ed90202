// Benchmark: the session layer alone vs the official SDK's documented stateful pattern, with a
// raw node:http floor, all measured in the same run. Each server runs in its own process pinned
// to core 0; autocannon runs here, pinned to core 1. CPU per request is measured inside the
// server (process.cpuUsage). Rounds alternate servers; medians are reported.
//
// Two runs per server and round: one at full speed (req/s, latency) and one at the same fixed
// offered load for every server (RATE req/s, below the slowest server's capacity) for CPU per
// request: at full speed a slower server would also pay more kernel time per request (less
// batching per epoll wake-up), which is not its own cost. Differences to the floor are taken
// per round (paired), then the median.
//
//   npm run bench            (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10 IDLE=100000)
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RATE = Number(process.env.RATE ?? 2000);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const IDLE = Number(process.env.IDLE ?? 100_000);
const SDK_IDLE = Number(process.env.SDK_IDLE ?? 2_000);

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function start(script) {
  const args = ['--expose-gc', new URL(`./servers/${script}`, import.meta.url).pathname];
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (message, key) =>
    new Promise((resolve) => {
      const on = (reply) => {
        if (key in reply) {
          child.off('message', on);
          resolve(reply[key]);
        }
      };
      child.on('message', on);
      child.send(message);
    });
  return new Promise((resolve) => {
    child.once('message', ({ port }) =>
      resolve({
        url: `http://127.0.0.1:${port}/mcp`,
        cpu: () => ask('cpu', 'cpu'),
        heap: () => ask('heap', 'heap'),
        call: (call, arg) => ask({ call, arg }, 'result'),
        stop: () => new Promise((done) => (child.once('exit', done), child.kill('SIGKILL'))),
      }),
    );
  });
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
};
const CALL = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });

async function openSession(url) {
  const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(INIT) });
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (!id) return undefined;
  const headers = { ...JSON_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await (
    await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  ).text();
  return headers;
}

async function load(url, headers, duration, overallRate) {
  return autocannon({ url, method: 'POST', headers, body: CALL, connections: CONNECTIONS, duration, overallRate });
}

function cpuOf(before, after, requests) {
  return (after.user - before.user + (after.system - before.system)) / requests;
}

async function measure(name, script, session) {
  const server = await start(script);
  const headers = session ? await openSession(server.url) : JSON_HEADERS;
  // Check the answer is right before timing it.
  const probe = await (await fetch(server.url, { method: 'POST', headers, body: CALL })).text();
  if (!probe.includes('hello')) throw new Error(`${name}: wrong answer ${probe}`);
  await load(server.url, headers, 2); // warm-up
  let before = await server.cpu();
  const full = await load(server.url, headers, DURATION);
  let after = await server.cpu();
  const fullCpu = cpuOf(before, after, full.requests.total);
  before = await server.cpu();
  const paced = await load(server.url, headers, DURATION, RATE);
  after = await server.cpu();
  await server.stop();
  for (const result of [full, paced]) {
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return {
    name,
    rps: full.requests.average,
    p50: full.latency.p50,
    p99: full.latency.p99,
    fullCpu,
    cpu: cpuOf(before, after, paced.requests.total),
  };
}

async function idleMemory() {
  const ours = await start('sessiongate.js');
  const base = await ours.heap();
  const count = await ours.call('idle', IDLE);
  const oursPer = ((await ours.heap()) - base) / count;
  await ours.stop();

  const rows = [{ name: `sessiongate, memory store (${count.toLocaleString('en')} idle sessions)`, per: oursPer }];
  for (const [name, script] of [
    ['sessiongate, memory store', 'sessiongate.js'],
    ['SDK stateful pattern', 'sdk-stateful.js'],
  ]) {
    const server = await start(script);
    const before = await server.heap();
    for (let i = 0; i < SDK_IDLE; i += 20) await Promise.all(Array.from({ length: 20 }, () => openSession(server.url)));
    const per = ((await server.heap()) - before) / SDK_IDLE;
    await server.stop();
    rows.push({ name: `${name} (${SDK_IDLE.toLocaleString('en')} idle sessions over HTTP)`, per });
  }
  return rows;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const servers = [
  ['raw node:http (floor)', 'raw.js', false],
  ['sessiongate session server', 'sessiongate.js', true],
  ['SDK stateful pattern', 'sdk-stateful.js', true],
];
const samples = new Map(servers.map(([name]) => [name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, script, session] of servers) {
    const sample = await measure(name, script, session);
    samples.get(name).push(sample);
    console.error(
      `round ${round}: ${name}: ${Math.round(sample.rps)} req/s, ${sample.fullCpu.toFixed(1)} µs CPU/req at full speed, ${sample.cpu.toFixed(1)} at ${RATE} req/s`,
    );
  }
}

const floor = samples.get('raw node:http (floor)');
const lines = [
  `Machine: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}${hasTaskset ? ', server pinned to core 0, load on core 1' : ''}`,
  `Load: autocannon, ${CONNECTIONS} connections, tools/call echo on one session; ${ROUNDS} rounds, medians. Full speed for ${DURATION} s (req/s, latency, CPU), then ${RATE} req/s offered to every server for ${DURATION} s (CPU at equal load).`,
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
lines.push('', '| idle sessions | heap per session |', '|---|---:|');
for (const row of await idleMemory()) lines.push(`| ${row.name} | ${(row.per / 1024).toFixed(2)} KB |`);
const table = lines.join('\n');
console.log(table);
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/session-server.md', import.meta.url), table + '\n');
