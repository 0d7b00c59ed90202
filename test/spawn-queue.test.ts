/**
 * Child starts a few at a time: a start holds its slot until the child answered its warm-up
 * ping, and sessions waiting for a child go before spare refills. Real child processes.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SpawnQueue } from '../src/gateway/upstreams/stdio/spawn-queue.js';
import { StdioChild } from '../src/gateway/upstreams/stdio/stdio-child.js';

const TINY = fileURLToPath(new URL('./fixtures/tiny-stdio-server.mjs', import.meta.url));
const SILENT = `process.stdin.resume()`; // reads stdin, never answers: ready only by timeout or exit

it('starts one at a time with a limit of 1, a waiting session before waiting spares', async () => {
  const queue = new SpawnQueue(1);
  const order: string[] = [];
  const children: StdioChild[] = [];
  const spawn = (name: string) => () => {
    order.push(name);
    const child = new StdioChild({ command: process.execPath, args: [TINY] });
    children.push(child);
    return child;
  };
  const first = queue.start('spare', spawn('spare 1'));
  const second = queue.start('spare', spawn('spare 2'));
  const session = queue.start('session', spawn('session'));
  await first;
  expect(order).toEqual(['spare 1']); // the others wait for its warm-up answer
  await Promise.all([second, session]);
  expect(order).toEqual(['spare 1', 'session', 'spare 2']);
  for (const child of children) await child.ready;
  await Promise.all(children.map((child) => child.stop(1000)));
});

it('a declined start frees its slot, and a child that exits is ready (its slot freed) without answering', async () => {
  const queue = new SpawnQueue(1);
  expect(await queue.start('spare', () => undefined)).toBeUndefined();
  const silent = (await queue.start('session', () => new StdioChild({ command: process.execPath, args: ['-e', SILENT] })))!;
  const next = queue.start('session', () => new StdioChild({ command: process.execPath, args: [TINY] }));
  await silent.stop(1000);
  const child = (await next)!;
  await child.ready;
  await child.stop(1000);
});
