// sessiongate's gateway in front of the upstream at $UPSTREAM; the store is $STORE as the CLI's
// --store takes it (default memory; redis://... gets the CLI's per-replica cache).
// BASELINE_DIST runs another build (bench/baseline.bench.js with TARGET=gateway).
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';

const dist = process.env.BASELINE_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { openStore, parseStoreSpec } = await import(`${dist}/cli/store-spec.js`);
const { httpUpstream } = await import(`${dist}/gateway/index.js`);
const { createSessionServer } = await import(`${dist}/server/index.js`);

const store = await openStore(parseStoreSpec(process.env.STORE ?? 'memory'));
const sessions = createSessionServer({ application: httpUpstream({ url: process.env.UPSTREAM }), store });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
