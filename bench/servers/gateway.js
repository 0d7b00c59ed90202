// sessiongate's gateway in front of the upstream at $UPSTREAM; the store is $STORE as the CLI's
// --store takes it (default memory; redis://... gets the CLI's per-replica cache).
import { createServer } from 'node:http';
import { openStore, parseStoreSpec } from '../../dist/cli/store-spec.js';
import { httpUpstream } from '../../dist/gateway/index.js';
import { createSessionServer } from '../../dist/server/index.js';
import { serveStats, ready } from './ipc.js';

const store = await openStore(parseStoreSpec(process.env.STORE ?? 'memory'));
const sessions = createSessionServer({ application: httpUpstream({ url: process.env.UPSTREAM }), store });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
