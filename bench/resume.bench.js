// Benchmark: what resumable streams cost (issue 20). The same session server answering
// tools/call with an SSE stream (a progress notification, then the response), resumption off
// and on, on each store; JSON answers (which carry no events) off and on. Order rotated round
// by round, ratios paired per round (targets: at most 1.15x on memory and SQLite, 1.25x on
// Redis). Then the memory a retained event holds in the memory store's log.
//
//   node bench/resume.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, measureRunning, median, publish, settings, start } from './harness.js';
import { hasRedis, startRedis } from './redis.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-resume-bench-'));
if (!hasRedis()) throw new Error('redis-server is needed (apt-get install redis-server)');
const redis = await startRedis(1);
const STORES = { memory: () => 'memory', sqlite: (round) => `sqlite:${join(dir, `r${round}.db`)}`, redis: () => redis.url };
const MODES = process.env.MODES?.split(',') ?? ['json-off', 'json-on', ...Object.keys(STORES).flatMap((s) => [`${s}-off`, `${s}-on`])];
const samples = Object.fromEntries(MODES.map((m) => [m, []]));
const env = (mode, round) => {
  const [store, state] = mode.split('-');
  if (store === 'json') return { JSON: '1', ...(state === 'off' ? { RESUME: 'off' } : {}) };
  return { STORE: STORES[store](round), ...(state === 'off' ? { RESUME: 'off' } : {}) };
};
for (let round = 1; round <= settings.rounds; round++) {
  const order = [...MODES.slice(round % MODES.length), ...MODES.slice(0, round % MODES.length)];
  for (const mode of order) {
    const server = await start('resume.js', env(mode, round));
    samples[mode].push(await measureRunning(mode, server, true));
  }
  console.error(`round ${round}: ` + MODES.map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)}`).join('; ') + ' µs CPU/req');
}
await redis.stop();
rmSync(dir, { recursive: true, force: true });

// Memory per retained event: 200 streams of 1000 progress events in the memory store's log.
const { MemoryStreamLog } = await import('../dist/store/memory/memory-stream-log.js');
const data = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1, total: 1000 } });
globalThis.gc?.();
const before = process.memoryUsage().heapUsed;
const log = new MemoryStreamLog();
for (let stream = 0; stream < 200; stream++) {
  const events = Array.from({ length: 1000 }, (_, i) => ({ seq: i + 1, data: data.replace('"progress":1', `"progress":${i + 1}`) }));
  const head = { requestId: stream, owner: 'o', done: false, lastSeq: 1000 };
  await log.write({ sessionId: 's', streamId: `c${stream}`, head, events, keepUntil: Date.now() + 60_000, maxEvents: 1000 });
}
globalThis.gc?.();
const perEvent = (process.memoryUsage().heapUsed - before) / 200_000;

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = (on, off, key) => median(samples[on].map((x, i) => x[key] / samples[off][i][key]));
publish('resume.md', [
  machine(),
  `Session server on core 0, tools/call on one warm session, autocannon ${settings.connections} connections; ${settings.rounds} rounds, order rotated, medians; ratios paired per round.`,
  '',
  '| answer, store, resumption | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...MODES.map(
    (m) =>
      `| ${m} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  ...['memory', 'sqlite', 'redis']
    .filter((s) => MODES.includes(`${s}-on`))
    .map(
      (s) =>
        `SSE on ${s}, on / off: CPU per request at equal load ${ratio(`${s}-on`, `${s}-off`, 'cpu').toFixed(3)}x, at full speed ${ratio(`${s}-on`, `${s}-off`, 'fullCpu').toFixed(3)}x (target <= ${s === 'redis' ? '1.25' : '1.15'}).`,
    ),
  !MODES.includes('json-on')
    ? ''
    : `JSON answers, on / off: at equal load ${ratio('json-on', 'json-off', 'cpu').toFixed(3)}x, at full speed ${ratio('json-on', 'json-off', 'fullCpu').toFixed(3)}x.`,

  `Memory per retained event (memory store, a ${data.length}-byte progress notification): ${Math.round(perEvent)} bytes.`,
]);
