// Benchmark: is everyone else served while one anonymous client attacks (issue "abuse")? The
// gateway (`--stdio`, default limits) in front of bench/servers/stdio-hostile.js. A victim
// session pings (sequentially) and new sessions open, first with nothing else going on, then
// while an attacker session sends 500 calls its child never answers, then while it has three
// children send 30 MB answers. Same run, so the quiet figures are the floor.
//
//   npm run bench:attack     (PINGS=300)
import { performance } from 'node:perf_hooks';
import { machine, openSession, publish } from './harness.js';
import { startListening } from './processes.js';

const PINGS = Number(process.env.PINGS ?? 300);
const SESSIONGATE = new URL('../bin/sessiongate.js', import.meta.url).pathname;
const SERVER = `${process.execPath} ${new URL('./servers/stdio-hostile.js', import.meta.url).pathname}`;
const port = String(20000 + Math.floor(Math.random() * 20000));
const url = `http://127.0.0.1:${port}/mcp`;
const gateway = await startListening(SESSIONGATE, ['--port', port, '--store', 'memory', '--stdio', SERVER], url);

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];
const call = (headers, id, name, args = {}) =>
  fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  });

/** The victim's pings (ms each) and the time to open 10 new sessions (ms each). */
async function victim(headers) {
  const pings = [];
  for (let n = 0; n < PINGS; n++) {
    const started = performance.now();
    await (await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'ping' }) })).text();
    pings.push(performance.now() - started);
  }
  const opens = [];
  for (let n = 0; n < 10; n++) {
    const started = performance.now();
    const session = await openSession(url);
    opens.push(performance.now() - started);
    await fetch(url, { method: 'DELETE', headers: session });
  }
  return { pings, opens };
}

const row = (name, { pings, opens }, extra) =>
  `| ${name} | ${percentile(pings, 50).toFixed(1)} | ${percentile(pings, 99).toFixed(1)} | ${percentile(opens, 50).toFixed(0)} | ${percentile(opens, 99).toFixed(0)} | ${extra} |`;

const victimHeaders = await openSession(url);
const lines = [
  machine(false),
  `Gateway: \`sessiongate --stdio\` with its defaults in front of an SDK McpServer whose tools hang or answer 30 MB. Victim: ${PINGS} sequential pings on its own session, then 10 sessions opened one at a time.`,
  '',
  '| while | ping p50 ms | ping p99 ms | initialize p50 ms | initialize p99 ms | attacker saw |',
  '|---|---:|---:|---:|---:|---|',
];
lines.push(row('nothing else (floor)', await victim(victimHeaders), '-'));

// 500 calls the child never answers, all at once, from one session.
const attacker = await openSession(url);
const hanging = Array.from({ length: 500 }, (_, n) => call(attacker, `hang-${n}`, 'hang').then((response) => response.status));
const during = await victim(victimHeaders);
// What the attacker saw by then: 429 past the per-session cap, the rest still waiting.
const statuses = await Promise.all(
  hanging.map((status) => Promise.race([status, new Promise((resolve) => setTimeout(() => resolve('pending'), 100))])),
);
const counts = {};
for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
lines.push(
  row(
    'one session sends 500 calls that are never answered',
    during,
    Object.entries(counts)
      .map(([status, n]) => `${n}x ${status}`)
      .join(', '),
  ),
);
await fetch(url, { method: 'DELETE', headers: attacker });

// Three children each answering 30 MB (past the 16 MiB default: each is stopped and restarted).
const flooders = await Promise.all([1, 2, 3].map(() => openSession(url)));
const floods = flooders.map((headers, n) =>
  call(headers, `big-${n}`, 'big', { size: 30 * 1024 * 1024 }).then((response) => response.text()),
);
const flooded = await victim(victimHeaders);
const answers = await Promise.all(floods);
const named = answers.filter((answer) => answer.includes('over the 16777216-byte limit')).length;
lines.push(row('three children answer 30 MB at once', flooded, `${named}x the call failed naming the 16 MiB limit (child restarted)`));

await gateway.stop();
publish('attack.md', lines);
