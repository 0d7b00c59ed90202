// Benchmark: what one session costs the gateway when its client sends the largest initialize
// params the gateway keeps (64 KiB serialized, docs/limits.md "Sessions"), each different (so
// nothing is shared), against sessions with ordinary params, same run. The gateway (memory
// store) fronts `sessiongate demo` in another process; its resident memory (VmRSS) is read
// before and after opening the sessions, settled.
//
//   node bench/oversized.bench.js     (SESSIONS=400)
import { readFileSync } from 'node:fs';
import { machine, publish } from './harness.js';
import { startListening } from './processes.js';

const SESSIONS = Number(process.env.SESSIONS ?? 400);
const BIN = new URL('../bin/sessiongate.js', import.meta.url).pathname;
const port = () => String(20000 + Math.floor(Math.random() * 20000));
const upstreamPort = port();
const upstreamUrl = `http://127.0.0.1:${upstreamPort}/mcp`;
const upstream = await startListening(BIN, ['demo', '--port', upstreamPort, '--store', 'memory'], upstreamUrl);

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const settle = () => new Promise((resolve) => setTimeout(resolve, 3000));
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function open(url, params) {
  const answer = await fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params }),
  });
  if (answer.status !== 200) throw new Error(`initialize: ${answer.status} ${await answer.text()}`);
  await answer.text();
}

function params(padding) {
  return {
    protocolVersion: '2025-11-25',
    capabilities: padding ? { experimental: { padding } } : {},
    clientInfo: { name: 'bench', version: '1' },
  };
}

/** KB of gateway RSS per session for `SESSIONS` sessions whose params `make(i)` builds. */
async function perSession(make) {
  const gatewayPort = port();
  const url = `http://127.0.0.1:${gatewayPort}/mcp`;
  const gateway = await startListening(BIN, ['--port', gatewayPort, '--store', 'memory', '--upstream', upstreamUrl], url);
  for (let i = 0; i < 20; i++) await open(url, make(-1 - i)); // warm-up
  await settle();
  const before = rssKb(gateway.pid);
  for (let i = 0; i < SESSIONS; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => open(url, make(i + j))));
  await settle();
  const after = rssKb(gateway.pid);
  await gateway.stop();
  return (after - before) / SESSIONS;
}

// Just under the 64 KiB kept: distinct random-looking text per session.
const big = (i) => params(`${i}:`.padEnd(63 * 1024, String.fromCharCode(97 + (Math.abs(i) % 26))) + Math.random());
const rounds = [];
for (let round = 0; round < 3; round++) rounds.push({ small: await perSession(() => params()), big: await perSession(big) });
await upstream.stop();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const small = median(rounds.map((r) => r.small));
const large = median(rounds.map((r) => r.big));
publish('oversized.md', [
  machine(),
  `${SESSIONS} sessions per measurement, 3 rounds, medians of the gateway's VmRSS growth per session.`,
  '',
  '| initialize params | gateway memory per session |',
  '|---|---:|',
  `| ordinary (~100 bytes) | ${small.toFixed(1)} KB |`,
  `| 63 KiB each, all different (just under the 64 KiB kept) | ${large.toFixed(1)} KB |`,
]);
