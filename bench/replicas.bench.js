// Benchmark (issue "replicas"): the gateway on the Redis store, as the CLI runs it (a per-replica
// record cache kept true by pub/sub), against the same gateway on the memory store, in the same
// run; and the Redis round trips per request, counted by redis-server itself (INFO
// commandstats): on a warm session (the hot path) and on a replica that has never seen the
// session (a cache miss). Gateway on core 0; upstream, redis-server and the load on core 1.
//
//   npm run bench:replicas    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { CALL, machine, measure, median, openSession, publish, settings, start } from './harness.js';
import { delta, hasRedis, startRedis } from './redis.js';

if (!hasRedis()) throw new Error('redis-server is not installed (on Debian: apt-get install redis-server)');
const redis = await startRedis();
const upstream = await start('sessiongate.js', {}, 1);
const stores = { memory: 'memory', redis: redis.url };
const samples = { memory: [], redis: [] };
for (let round = 1; round <= settings.rounds; round++) {
  for (const [name, store] of Object.entries(stores)) {
    samples[name].push(await measure(name, 'gateway.js', true, { UPSTREAM: upstream.url, STORE: store }));
  }
  console.error(
    `round ${round}: ` +
      Object.entries(samples)
        .map(
          ([name, list]) =>
            `${name} ${Math.round(list.at(-1).rps)} req/s, ${list.at(-1).cpu.toFixed(1)} µs CPU/req at ${settings.rate} req/s`,
        )
        .join('; '),
  );
}

// Round trips. A and B are two replicas on the same Redis.
const SERIAL = 2000;
const MISSES = 200;
const env = { UPSTREAM: upstream.url, STORE: redis.url };
const [a, b] = [await start('gateway.js', env), await start('gateway.js', env)];
const call = async (url, headers) => {
  const answer = await (await fetch(url, { method: 'POST', headers, body: CALL })).text();
  if (!answer.includes('hello')) throw new Error(`wrong answer ${answer}`);
};
const hot = await openSession(a.url);
await call(a.url, hot);
let before = await redis.commands();
for (let i = 0; i < SERIAL; i++) await call(a.url, hot);
const warm = delta(before, await redis.commands());
console.error(`warm session: ${JSON.stringify(warm)} in ${SERIAL} calls`);
// Sessions created through A, each then served once by B, which has never seen them.
const created = [];
for (let i = 0; i < MISSES; i++) created.push(await openSession(a.url));
before = await redis.commands();
for (const headers of created) await call(b.url, headers);
const missed = delta(before, await redis.commands());
console.error(`cache misses: ${JSON.stringify(missed)} in ${MISSES} calls`);
for (const server of [a, b, upstream]) await server.stop();
await redis.stop();

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = median(samples.redis.map((x, i) => x.cpu / samples.memory[i].cpu));
const row = (name, list) =>
  `| ${name} | ${Math.round(med(list, 'rps'))} | ${med(list, 'p50')} | ${med(list, 'p99')} | ${med(list, 'fullCpu').toFixed(1)} | ${med(list, 'cpu').toFixed(1)} |`;
const total = (counts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const list = (counts) =>
  Object.entries(counts)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ') || 'none';
publish('replicas.md', [
  machine(),
  `Gateway in front of sessiongate's trivial upstream; autocannon, ${settings.connections} connections, tools/call echo on one session; ${settings.rounds} rounds, medians. Full speed for ${settings.duration} s, then ${settings.rate} req/s for ${settings.duration} s (CPU at equal load).`,
  '',
  '| gateway store | req/s | p50 ms | p99 ms | gateway CPU µs/req, full speed | same, at equal load |',
  '|---|---:|---:|---:|---:|---:|',
  row('memory (one process)', samples.memory),
  row('Redis + per-replica cache (as `--store redis://`)', samples.redis),
  '',
  `Redis / memory CPU per request at equal load (paired median): ${ratio.toFixed(2)} (target at most 1.30)`,
  '',
  '| Redis round trips (counted by redis-server) | requests | commands | per request | which |',
  '|---|---:|---:|---:|---|',
  `| warm session, the hot path (${SERIAL} calls one after another on replica A) | ${SERIAL} | ${total(warm)} | ${(total(warm) / SERIAL).toFixed(3)} | ${list(warm)} |`,
  `| cache miss (${MISSES} sessions created on A, each then called once on replica B) | ${MISSES} | ${total(missed)} | ${(total(missed) / MISSES).toFixed(3)} | ${list(missed)} |`,
]);
