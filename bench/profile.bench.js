// Where the gateway's CPU goes: bench/servers/gateway.js (or $SCRIPT; or, with CLI=1, the
// `sessiongate --upstream URL` command with default flags) in front of the session server, run
// with --cpu-prof under a steady load ($RATE req/s of tools/call for $DURATION s, $CONNECTIONS
// connections), then the top self-time entries of the profile, idle left out. For
// bench/RESULTS.md, before and after a change of the request path.
//
// EXTRA_ARGS: more flags for the CLI (e.g. "--otel http://127.0.0.1:4318").
// LIST=1: the load is tools/list of an upstream with 100 tools (18 KB answers) instead.
// BY=file: self time summed per source file instead of per function.
//
//   node bench/profile.bench.js    (SCRIPT=gateway.js CLI=1 LIST=1 RATE=2000 DURATION=10 CONNECTIONS=16 TOP=15)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CALL, hasTaskset, openSession, settings, start } from './harness.js';

const cli = process.env.CLI === '1';
const script = cli ? 'sessiongate --upstream URL' : (process.env.SCRIPT ?? 'gateway.js');
const top = Number(process.env.TOP ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'sg-profile-'));
const list = process.env.LIST === '1';
const body = list ? JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }) : CALL;
const upstream = await start('sessiongate.js', list ? { TOOLS: '100' } : {}, 1);

// SIGTERM exits normally, so the profile is written.
const onTerm = `data:text/javascript,process.on('SIGTERM',()=>process.exit(0))`;
const target = cli
  ? [
      new URL('../bin/sessiongate.js', import.meta.url).pathname,
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--store',
      `sqlite:${join(dir, 'sessions.db')}`,
      ...(process.env.EXTRA_ARGS?.split(' ').filter(Boolean) ?? []),
    ]
  : [new URL(`./servers/${script}`, import.meta.url).pathname];
const args = ['--cpu-prof', '--cpu-prof-dir', dir, '--import', onTerm, ...target];
const options = { stdio: ['ignore', cli ? 'pipe' : 'inherit', 'inherit', 'ipc'], env: { ...process.env, UPSTREAM: upstream.url } };
const child = hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...args], options) : spawn(process.execPath, args, options);
const url = cli
  ? await new Promise((resolve) => {
      let printed = '';
      child.stdout.on('data', (chunk) => {
        printed += chunk;
        const match = /listening on (\S+)/.exec(printed);
        if (match) resolve(match[1]);
      });
    })
  : `http://127.0.0.1:${await new Promise((resolve) => child.once('message', (message) => resolve(message.port)))}/mcp`;
const headers = await openSession(url);
const load = (duration, overallRate) =>
  autocannon({ url, method: 'POST', headers, body, connections: settings.connections, duration, overallRate });
await load(2); // warm-up
const result = await load(settings.duration, settings.rate);
if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
await new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));
await upstream.stop();

const [file] = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
rmSync(dir, { recursive: true, force: true });
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
profile.samples.forEach((id, index) => {
  const { callFrame } = byId.get(id);
  const where = callFrame.url ? `${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
  const key =
    process.env.BY === 'file' && callFrame.url ? basename(callFrame.url) : `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
self.delete('(idle)');
const busy = [...self.values()].reduce((sum, us) => sum + us, 0);
const requests = result.requests.total;
console.log(
  `${script}: ${requests} requests at ${settings.rate} req/s, ${settings.connections} connections; busy ${(busy / requests).toFixed(1)} µs/request sampled`,
);
console.log('| self time | share of busy | entry |');
console.log('|---:|---:|---|');
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`| ${(us / requests).toFixed(1)} µs/req | ${((100 * us) / busy).toFixed(1)}% | \`${key}\` |`);
