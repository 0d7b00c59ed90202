/**
 * The examples are runnable scripts that check themselves: each must exit 0.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

function run(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(`../examples/${script}`, import.meta.url))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it.each(['node-http.js', 'express.js', 'fastify.js', 'hono.js', 'gateway.js'])(
  'examples/%s serves a session end to end and exits 0',
  async (script) => {
    const { code, output } = await run(script);
    expect(output).toContain('ok:');
    expect(code).toBe(0);
  },
);
