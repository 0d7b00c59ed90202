// A redis-server for the benchmarks, on a free port, pinned beside the load generator, and
// its own count of the commands it ran (INFO commandstats): Redis round trips, counted by Redis.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { hasTaskset } from './harness.js';

export function hasRedis() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server (no persistence) pinned to `core`; resolves once it answers. */
export async function startRedis(core = 1) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = hasTaskset ? spawn('taskset', ['-c', String(core), 'redis-server', ...args]) : spawn('redis-server', args);
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { retryStrategy: () => 50 });
  admin.on('error', () => {});
  // Commands wait in the offline queue until redis-server is up.
  await admin.ping();
  return {
    url,
    /** Commands run so far, by name; the counting's own INFO left out. */
    async commands() {
      const counts = {};
      for (const [, name, calls] of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (name !== 'info') counts[name] = Number(calls);
      }
      return counts;
    },
    async stop() {
      admin.disconnect();
      await new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL')));
    },
  };
}

/** What ran between two `commands()` snapshots, by name. */
export function delta(before, after) {
  const out = {};
  for (const [name, calls] of Object.entries(after)) if (calls - (before[name] ?? 0) > 0) out[name] = calls - (before[name] ?? 0);
  return out;
}
