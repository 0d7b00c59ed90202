/**
 * Children a killed gateway left behind are stopped at the next start (issue "abuse", bug 10):
 * real gateways, real children that ignore both SIGTERM and the end of their stdin, kill -9.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildLedger, startTimeOf } from '../src/gateway/upstreams/stdio/child-ledger.js';
import { startCli, runCli, type DemoProcess } from './helpers/demo-process.js';
import { openSession, send, toolCall } from './helpers/mcp-http.js';

const TINY = fileURLToPath(new URL('./fixtures/tiny-stdio-server.mjs', import.meta.url));
const directories: string[] = [];
const started: DemoProcess[] = [];
const stray: number[] = [];
afterAll(async () => {
  for (const gateway of started) await gateway.kill('SIGKILL');
  for (const pid of stray) if (startTimeOf(pid) !== undefined) process.kill(pid, 'SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function ledgerDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'sg-ledger-'));
  directories.push(directory);
  return join(directory, 'children');
}

async function gateway(ledger: string): Promise<DemoProcess> {
  const process = await startCli([
    '--port',
    '0',
    '--store',
    'memory',
    '--stdio',
    `${globalThis.process.execPath} ${TINY}`,
    '--stdio-env',
    'TINY_IGNORE_STOP=1',
    '--spares',
    '1',
    '--child-ledger',
    ledger,
  ]);
  started.push(process);
  return process;
}

describe('the child ledger', () => {
  it('a gateway killed with SIGKILL leaves children that cannot be stopped; the next start stops them', async () => {
    const ledger = ledgerDirectory();
    const first = await gateway(ledger);
    const headers = { 'mcp-session-id': await openSession(first.url), 'mcp-protocol-version': '2025-11-25' };
    const answer = await send(first.url, { body: toolCall('whoami', {}), headers });
    const child = Number((answer.json as { result: { content: [{ text: string }] } }).result.content[0].text);
    stray.push(child);
    // The session's child and the spare that replaced it are written down.
    await expect.poll(() => readdirSync(ledger).length).toBe(2);
    expect(readdirSync(ledger)).toContain(String(child));
    const children = readdirSync(ledger).map(Number);
    stray.push(...children);
    await first.kill('SIGKILL');
    // Orphans now: they ignore the end of their stdin and SIGTERM.
    for (const pid of children) expect(startTimeOf(pid)).toBeDefined();
    const second = await gateway(ledger);
    expect(second.output()).toMatch(/stopped 2 child process\(es\) a previous run left behind/);
    for (const pid of children) expect(startTimeOf(pid)).toBeUndefined();
    // The new run's own children are in the ledger; the old entries are gone.
    await expect
      .poll(() =>
        readdirSync(ledger)
          .map(Number)
          .filter((pid) => children.includes(pid)),
      )
      .toEqual([]);
    await second.kill('SIGTERM');
  });

  it("a live gateway's children are not touched by another gateway starting on the same ledger", async () => {
    const ledger = ledgerDirectory();
    const first = await gateway(ledger);
    await expect.poll(() => readdirSync(ledger).length).toBe(1);
    const spare = Number(readdirSync(ledger)[0]);
    const second = await gateway(ledger);
    expect(second.output()).not.toContain('left behind');
    expect(startTimeOf(spare)).toBeDefined();
    await second.kill('SIGTERM');
    await first.kill('SIGTERM');
  });

  it('never signals a recycled pid, and crosses out entries of children that are gone', async () => {
    const ledger = ledgerDirectory();
    const book = new ChildLedger(ledger);
    // An entry whose gateway is gone and whose pid now belongs to another process (this one).
    const recycled = { child: { pid: process.pid, started: startTimeOf(process.pid)! - 1 }, gateway: { pid: 999_999_999, started: 1 } };
    writeFileSync(join(ledger, String(process.pid)), JSON.stringify(recycled));
    writeFileSync(join(ledger, '12345'), '{"child":'); // half-written
    expect(await book.reapOrphans()).toEqual([]);
    expect(readdirSync(ledger)).toEqual([]);
  });

  it('refuses a ledger directory others can write to, in one line naming it', async () => {
    const ledger = ledgerDirectory();
    new ChildLedger(ledger);
    chmodSync(ledger, 0o777);
    const run = await runCli(['--port', '0', '--store', 'memory', '--stdio', `${process.execPath} ${TINY}`, '--child-ledger', ledger]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the child ledger ${ledger} must belong to this user with mode 0700`);
  });
});
