// sessiongate's gateway in front of the upstreams at $UPSTREAMS (a JSON list of URLs; memory
// store): with $PLAIN, one httpUpstream for the first (today's single-server gateway), else a
// federation of all of them named s0, s1, ... (bench/federation.bench.js).
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';

const dist = new URL('../../dist', import.meta.url).pathname;
const { federation, httpProbe, httpUpstream } = await import(`${dist}/gateway/index.js`);
const { createSessionServer } = await import(`${dist}/server/index.js`);

const urls = JSON.parse(process.env.UPSTREAMS);
let application;
if (process.env.PLAIN) application = httpUpstream({ url: urls[0] });
else {
  const servers = urls.map((url, i) => ({ name: `s${i}`, app: httpUpstream({ url }), probe: httpProbe(url), target: url }));
  application = federation({ servers });
  await application.start();
}
const sessions = createSessionServer({ application });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
