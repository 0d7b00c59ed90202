// Shared by the benchmarks: servers in their own process pinned to core 0, autocannon here on
// core 1, CPU per request measured inside the server, rounds alternating servers, medians.
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

export const settings = {
  rounds: Number(process.env.ROUNDS ?? 5),
  rate: Number(process.env.RATE ?? 2000),
  duration: Number(process.env.DURATION ?? 10),
  connections: Number(process.env.CONNECTIONS ?? 10),
  idle: Number(process.env.IDLE ?? 100_000),
  // Large enough that what is not per session (pools, compiled code) does not show: 2,000 read up to 1.5x high.
  httpIdle: Number(process.env.SDK_IDLE ?? 10_000),
};

export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Starts bench/servers/SCRIPT pinned to `core` (default 0), with extra environment. */
export function start(script, env = {}, core = 0) {
  const args = ['--expose-gc', new URL(`./servers/${script}`, import.meta.url).pathname];
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } };
  const child = hasTaskset
    ? spawn('taskset', ['-c', String(core), process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
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

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
export const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
};
export const CALL = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });

/** initialize + initialized, with `extra` headers (a bearer token) on every request; returns the headers for later requests. */
export async function openSession(url, extra = {}) {
  const response = await fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(INIT) });
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (!id) throw new Error(`no session id from ${url}: HTTP ${response.status}`);
  const headers = { ...JSON_HEADERS, ...extra, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await (
    await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  ).text();
  return headers;
}

function load(url, headers, duration, overallRate, body = CALL) {
  return autocannon({ url, method: 'POST', headers, body, connections: settings.connections, duration, overallRate });
}

function cpuOf(before, after, requests) {
  return (after.user - before.user + (after.system - before.system)) / requests;
}

/**
 * One server, one round: full speed for req/s, latency and CPU; then the same offered load for
 * every server (CPU at equal load: a slower server would otherwise also pay more kernel time per
 * request, since each epoll wake-up batches fewer requests).
 */
export async function measure(name, script, session, env = {}) {
  return measureRunning(name, await start(script, env), session);
}

/**
 * `measure` for a server started elsewhere: `{ url, cpu(): {user, system} in µs, stop() }`;
 * `body`: the call sent (default: tools/call echo "hello"; its answer must hold "hello").
 */
export async function measureRunning(name, server, session, headersFor = openSession, body = CALL) {
  const headers = session ? await headersFor(server.url) : JSON_HEADERS;
  const probe = await (await fetch(server.url, { method: 'POST', headers, body })).text();
  if (!probe.includes('hello')) throw new Error(`${name}: wrong answer ${probe}`);
  await load(server.url, headers, 2, undefined, body); // warm-up
  let before = await server.cpu();
  const full = await load(server.url, headers, settings.duration, undefined, body);
  let after = await server.cpu();
  const fullCpu = cpuOf(before, after, full.requests.total);
  before = await server.cpu();
  const paced = await load(server.url, headers, settings.duration, settings.rate, body);
  after = await server.cpu();
  const serialP50 = await serialLatency(server.url, headers, 2000, body);
  await server.stop();
  for (const result of [full, paced]) {
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return {
    rps: full.requests.average,
    p50: full.latency.p50,
    p99: full.latency.p99,
    fullCpu,
    cpu: cpuOf(before, after, paced.requests.total),
    serialP50,
  };
}

/**
 * Median latency in ms of calls made one after another on one keep-alive connection, timed
 * with a sub-millisecond clock (autocannon reports whole milliseconds).
 */
export async function serialLatency(url, headers, count = 2000, body = CALL) {
  const agent = new Agent({ connections: 1 });
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answer = await request(url, { method: 'POST', headers, body, dispatcher: agent });
    await answer.body.text();
    times.push(performance.now() - started);
  }
  await agent.close();
  return median(times);
}

/** Rounds alternating the servers; returns name -> samples. */
export async function rounds(servers) {
  const samples = new Map(servers.map(([name]) => [name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [name, script, session, env] of servers) {
      const sample = await measure(name, script, session, env);
      samples.get(name).push(sample);
      console.error(
        `round ${round}: ${name}: ${Math.round(sample.rps)} req/s, p99 ${sample.p99} ms, ${sample.fullCpu.toFixed(1)} µs CPU/req full speed, ${sample.cpu.toFixed(1)} at ${settings.rate} req/s`,
      );
    }
  }
  return samples;
}

/** Sessions opened before the baseline heap is read. */
const WARM_UP = 100;

/** Heap per idle session: `count` sessions opened over HTTP, 20 at a time, after a warm-up. */
export async function idleHeapOverHttp(script, count, env = {}) {
  const server = await start(script, env);
  const open = async (n) => {
    for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => openSession(server.url)));
    // Let the keep-alive connections close (server timeout 5 s): their buffers are not sessions.
    await new Promise((resolve) => setTimeout(resolve, 6000));
  };
  // Warm-up first: the code compiled for the HTTP path and the pools it fills are not per session.
  await open(WARM_UP);
  const before = await server.heap();
  await open(count);
  const per = ((await server.heap()) - before) / count;
  await server.stop();
  return per;
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function machine(pinned = hasTaskset) {
  return `Machine: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}${pinned ? ', server pinned to core 0, load on core 1' : ', nothing pinned'}`;
}

export function publish(file, lines) {
  const table = lines.join('\n');
  console.log(table);
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./out/${file}`, import.meta.url), table + '\n');
}
