// Benchmark: the official SDK Client over its own StreamableHTTPClientTransport vs over
// sessiongate's SessionClientTransport, against the same server process (sessiongate's session
// server with a trivial application, pinned to core 0), in the same run. The clients run here
// (core 1): CONCURRENCY loops of sequential tools/call for DURATION s each; rounds alternate
// transports; paired ratio medians. Client CPU per call is measured in this process.
//
//   npm run bench:client     (ROUNDS=5 DURATION=5 CONCURRENCY=10)
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SessionClientTransport } from '../dist/client/index.js';
import { machine, median, publish, start } from './harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10);

const transports = [
  ['SDK StreamableHTTPClientTransport', (url) => new StreamableHTTPClientTransport(new URL(url))],
  ['sessiongate SessionClientTransport', (url) => new SessionClientTransport(url, { openStream: false })],
  // The same without recovery: the difference is what recovery costs on a path without 404s.
  ['sessiongate SessionClientTransport, recover: false', (url) => new SessionClientTransport(url, { openStream: false, recover: false })],
];

async function run(url, make, seconds) {
  const clients = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(make(url));
    clients.push(client);
  }
  const before = process.cpuUsage();
  const until = Date.now() + seconds * 1000;
  let calls = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < until) {
        const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
        if (result.content?.[0]?.text !== 'hello') throw new Error('wrong answer');
        calls++;
      }
    }),
  );
  const cpu = process.cpuUsage(before);
  await Promise.all(clients.map((client) => client.close()));
  return { rps: calls / seconds, cpu: (cpu.user + cpu.system) / calls };
}

const server = await start('sessiongate.js');
for (const [, make] of transports) await run(server.url, make, 1); // warm-up
const samples = new Map(transports.map(([name]) => [name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, make] of transports) {
    const sample = await run(server.url, make, DURATION);
    samples.get(name).push(sample);
    console.error(`round ${round}: ${name}: ${Math.round(sample.rps)} calls/s, ${sample.cpu.toFixed(1)} µs client CPU/call`);
  }
}
await server.stop();

const [sdkName, oursName, bareName] = transports.map(([name]) => name);
const sdk = samples.get(sdkName);
const ours = samples.get(oursName);
const bare = samples.get(bareName);
const lines = [
  machine(),
  `Load: ${CONCURRENCY} SDK Clients, sequential tools/call echo each, ${DURATION} s per run, ${ROUNDS} rounds, medians; server: sessiongate session server, trivial application.`,
  '',
  '| client transport | calls/s | client CPU µs/call |',
  '|---|---:|---:|',
  ...transports.map(
    ([name]) =>
      `| ${name} | ${Math.round(median(samples.get(name).map((s) => s.rps)))} | ${median(samples.get(name).map((s) => s.cpu)).toFixed(1)} |`,
  ),
  '',
  `calls/s, sessiongate / SDK (paired median): ${median(ours.map((s, i) => s.rps / sdk[i].rps)).toFixed(2)}x (target >= 1)`,
  `calls/s, with recovery / without (paired median): ${median(ours.map((s, i) => s.rps / bare[i].rps)).toFixed(2)}x (no 404 happens in this run)`,
];
publish('client.md', lines);
