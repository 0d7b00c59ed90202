/**
 * The reference `@modelcontextprotocol/server-everything` (written by others, in the SDK's
 * documented pattern), as a real process: over Streamable HTTP on a chosen port (so a test can
 * restart it in place), or as the stdio command a gateway runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The reference server's entry point (`node ENTRY stdio | streamableHttp`). */
export const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** The stdio command line for `--stdio`. */
export const EVERYTHING_STDIO = `${process.execPath} ${EVERYTHING} stdio`;

export interface EverythingHttp {
  url: string;
  port: number;
  child: ChildProcess;
  kill(): Promise<void>;
}

/** A free loopback port (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the reference server over Streamable HTTP (or, `sse`, the deprecated HTTP+SSE
 * transport, at /sse) and waits until it says it listens.
 */
export async function startEverythingHttp(port?: number, transport: 'streamableHttp' | 'sse' = 'streamableHttp'): Promise<EverythingHttp> {
  const chosen = port ?? (await freePort());
  const child = spawn(process.execPath, [EVERYTHING, transport], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', PORT: String(chosen) },
  });
  let output = '';
  const onData = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4096));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${output}`)), 20_000);
    const check = (): void => {
      if (!output.includes(`listening on port ${chosen}`) && !output.includes(`running on port ${chosen}`)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code}: ${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${chosen}/${transport === 'sse' ? 'sse' : 'mcp'}`,
    port: chosen,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
