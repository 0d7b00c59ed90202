// sessiongate's SDK binding: the same McpServer with the same echo tool as sdk-stateful.js,
// one per session, behind the session server (memory store).
// BASELINE_DIST runs another build (bench/baseline.bench.js with TARGET=sdk).
import { createServer } from 'node:http';
import { echoServer } from './echo-server.js';
import { serveStats, ready } from './ipc.js';

const dist = process.env.BASELINE_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { bindMcpServer, createSessionServer } = await import(`${dist}/server/index.js`);

// INSTANCE_IDLE_TIMEOUT (ms): close the instances of idle sessions (bindMcpServer's instanceIdleTimeoutMs).
const idle = process.env.INSTANCE_IDLE_TIMEOUT;
const binding = bindMcpServer(() => echoServer(), { instanceIdleTimeoutMs: idle ? Number(idle) : undefined });
const sessions = createSessionServer({ application: binding });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
