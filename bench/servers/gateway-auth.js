// sessiongate's gateway in front of the upstream at $UPSTREAM (memory store), with
// `jwtAuthenticator` over the key set in $JWKS when it is set (bench/auth.bench.js), else with
// the default (a keyed hash of the raw Authorization header, what `--auth none` does).
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';

const dist = new URL('../../dist', import.meta.url).pathname;
const { httpUpstream } = await import(`${dist}/gateway/index.js`);
const { createSessionServer } = await import(`${dist}/server/index.js`);
const { jwtAuthenticator } = await import(`${dist}/auth/index.js`);

const authenticate = process.env.JWKS
  ? jwtAuthenticator({
      jwks: JSON.parse(process.env.JWKS),
      issuers: [process.env.ISSUER],
      audiences: [process.env.AUDIENCE],
      resourceMetadataUrl: 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp',
    })
  : (request) => request.header('authorization');
const sessions = createSessionServer({ application: httpUpstream({ url: process.env.UPSTREAM }), authenticate });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
