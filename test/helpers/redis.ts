/**
 * A real redis-server for the tests, started on a free port. In CI a missing redis-server fails
 * the run; it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error('redis-server is not installed (Debian: apt-get install redis-server); the Redis tests need a real one');
  }
  return path;
}

/**
 * A real redis-server on a free (or the given) port. `durable` keeps an append-only file in
 * `dir` (fsync on every write) so a restart on the same port and dir finds every session.
 */
export async function startRedis(port?: number, options: { durable?: { dir: string }; args?: string[] } = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const chosen = port ?? (await freePort());
  const dir = options.durable?.dir ?? mkdtempSync(join(tmpdir(), 'sg-redis-'));
  const persistence = options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, ...(options.args ?? [])];
  const child: ChildProcess = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  child.stdout!.resume();
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      if (!options.durable) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisCli(args: string[]): string {
  const run = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 20_000 });
  if (run.error || run.status !== 0) {
    throw new Error(`redis-cli ${args.join(' ')} failed (Debian: apt-get install redis-tools): ${run.error?.message ?? run.stderr}`);
  }
  return run.stdout;
}

/** A real three-master Redis Cluster on free ports; `url` is its redis-cluster:// form. */
export async function startRedisCluster(): Promise<{ url: string; nodes: RedisServer[]; stop(): Promise<void> }> {
  const nodes = await Promise.all(
    [0, 1, 2].map(() => startRedis(undefined, { args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] })),
  );
  const stop = async (): Promise<void> => void (await Promise.all(nodes.map((node) => node.stop())));
  try {
    redisCli(['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    while (!nodes.every((node) => redisCli(['-p', String(node.port), 'cluster', 'info']).includes('cluster_state:ok'))) {
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis-cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`, nodes, stop };
}

/**
 * A real master, a replica of it, and one Sentinel monitoring them (quorum 1) as "mymaster";
 * `url` is the redis-sentinel:// form. `failover()` makes the replica the master.
 */
export async function startRedisSentinel(): Promise<{
  url: string;
  ports: { master: number; replica: number };
  masterPort(): number;
  failover(): void;
  stop(): Promise<void>;
}> {
  const master = await startRedis();
  const replica = await startRedis(undefined, { args: ['--replicaof', '127.0.0.1', String(master.port)] });
  const dir = mkdtempSync(join(tmpdir(), 'sg-sentinel-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'sentinel.conf'),
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
      '',
    ].join('\n'),
  );
  const sentinel = spawn(redisServerBinary(), [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async (): Promise<void> => {
    if (sentinel.exitCode === null && sentinel.signalCode === null) {
      const exited = new Promise((resolve) => sentinel.once('exit', resolve));
      sentinel.kill('SIGKILL');
      await exited;
    }
    await Promise.all([master.stop(), replica.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Ready once the Sentinel knows the replica (a failover needs one).
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis sentinel did not see the replica: ${output}`)), 20_000);
      sentinel.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('+slave') || output.includes('+replica')) {
          clearTimeout(timer);
          resolve();
        }
      });
      sentinel.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis sentinel exited with ${code}: ${output}`));
      });
    });
    sentinel.stdout.resume();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis-sentinel://127.0.0.1:${port}/mymaster`,
    ports: { master: master.port, replica: replica.port },
    masterPort: () => Number(redisCli(['-p', String(port), 'sentinel', 'get-master-addr-by-name', 'mymaster']).split('\n')[1]),
    failover: () => void redisCli(['-p', String(port), 'sentinel', 'failover', 'mymaster']),
    stop,
  };
}

/**
 * RedisStore options for tests that are not about timeouts. The default command timeout (1 s)
 * is how long a request waits on a Redis that is down; on a loaded 2-core machine a cluster
 * client's first connection (slot discovery over three nodes) has been measured to take longer.
 */
export const PATIENT = { commandTimeoutMs: 10_000 } as const;
