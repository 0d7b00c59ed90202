// sessiongate's gateway (memory store) in front of the upstream at $UPSTREAM.
import { createServer } from 'node:http';
import { httpUpstream } from '../../dist/gateway/index.js';
import { createSessionServer } from '../../dist/server/index.js';
import { serveStats, ready } from './ipc.js';

const sessions = createSessionServer({ application: httpUpstream({ url: process.env.UPSTREAM }) });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
