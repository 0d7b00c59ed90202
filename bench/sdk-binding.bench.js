// Benchmark: the same McpServer (one echo tool) served two ways, in the same run: the SDK's
// documented stateful pattern (StreamableHTTPServerTransport per session) and sessiongate's
// binding (bindMcpServer); beside them the floor of any binding (node:http handing each body
// straight to one McpServer, nothing else). Ratios are taken per round (paired), then the median.
//
//   npm run bench:sdk        (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10 SDK_IDLE=10000)
import { idleHeapOverHttp, machine, median, publish, rounds, settings, start } from './harness.js';

const SDK = 'SDK stateful pattern';
const OURS = 'sessiongate bindMcpServer';
// What any binding pays at least: node:http and the same McpServer, no sessions, no checks.
const FLOOR = 'floor: node:http + the McpServer, no session layer';
const servers = [
  [SDK, 'sdk-stateful.js', true],
  [OURS, 'sessiongate-sdk.js', true],
  [FLOOR, 'mcp-floor.js', true],
];
const samples = await rounds(servers);
const sdk = samples.get(SDK);
const ours = samples.get(OURS);
const floor = samples.get(FLOOR);
const lines = [
  machine(),
  `Load: autocannon, ${settings.connections} connections, tools/call echo (same McpServer) on one session; ${settings.rounds} rounds, medians. Full speed for ${settings.duration} s, then ${settings.rate} req/s offered to both for ${settings.duration} s (CPU at equal load).`,
  '',
  '| server | req/s | p50 ms | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|---:|',
];
for (const [name] of servers) {
  const s = samples.get(name);
  lines.push(
    `| ${name} | ${Math.round(median(s.map((x) => x.rps)))} | ${median(s.map((x) => x.p50))} | ${median(s.map((x) => x.p99))} | ${median(s.map((x) => x.fullCpu)).toFixed(1)} | ${median(s.map((x) => x.cpu)).toFixed(1)} |`,
  );
}
lines.push(
  '',
  `req/s, sessiongate / SDK (paired median): ${median(ours.map((x, i) => x.rps / sdk[i].rps)).toFixed(2)}x (target >= 3x)`,
  `p99, sessiongate / SDK (paired median): ${median(ours.map((x, i) => Math.max(x.p99, 1) / Math.max(sdk[i].p99, 1))).toFixed(2)} (target <= 0.33; autocannon reports whole ms, 0 counted as 1)`,
  `the floor / SDK (paired medians): req/s ${median(floor.map((x, i) => x.rps / sdk[i].rps)).toFixed(2)}x, p99 ${median(floor.map((x, i) => Math.max(x.p99, 1) / Math.max(sdk[i].p99, 1))).toFixed(2)}; sessiongate / the floor: req/s ${median(ours.map((x, i) => x.rps / floor[i].rps)).toFixed(2)}x, CPU at equal load ${median(ours.map((x, i) => x.cpu / floor[i].cpu)).toFixed(2)}x`,
);

// Memory per idle session, and what the McpServer itself costs (connected, initialized, idle).
const alone = await start('mcp-alone.js');
await alone.call('idle', 100); // warm-up, as idleHeapOverHttp does
const base = await alone.heap();
const made = await alone.call('idle', settings.httpIdle);
const mcpServer = ((await alone.heap()) - base) / (made - 100);
await alone.stop();
const sdkPer = await idleHeapOverHttp('sdk-stateful.js', settings.httpIdle);
const oursPer = await idleHeapOverHttp('sessiongate-sdk.js', settings.httpIdle);
// Instances of idle sessions closed after 1 s (read 6 s after the last session opened).
const evictedPer = await idleHeapOverHttp('sessiongate-sdk.js', settings.httpIdle, { INSTANCE_IDLE_TIMEOUT: '1000' });
const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;
const sdkOwn = sdkPer - mcpServer;
lines.push(
  '',
  `| ${settings.httpIdle.toLocaleString('en')} idle sessions over HTTP | heap per session | without the McpServer itself |`,
  '|---|---:|---:|',
  `| the McpServer alone (connected, initialized, idle) | ${kb(mcpServer)} | - |`,
  `| ${SDK} | ${kb(sdkPer)} | ${kb(sdkOwn)} |`,
  `| ${OURS} (instances kept, the default) | ${kb(oursPer)} | ${kb(oursPer - mcpServer)} |`,
  `| ${OURS}, instanceIdleTimeoutMs 1 s (idle instances closed, no McpServer held) | ${kb(evictedPer)} | ${kb(evictedPer)} |`,
  '',
  `memory without the McpServer, sessiongate / SDK: instances kept ${((oursPer - mcpServer) / sdkOwn).toFixed(2)}, idle instances closed ${(evictedPer / sdkOwn).toFixed(2)} (target <= 0.25)`,
);
publish('sdk-binding.md', lines);
