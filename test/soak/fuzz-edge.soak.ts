/**
 * The fuzz test of the HTTP edge (helpers/edge-fuzz.ts) with a larger budget, against the
 * gateway in front of the bundled demo and in front of server-everything over stdio.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type DemoProcess } from '../helpers/demo-process.js';
import { edgeRequests, sendEdge } from '../helpers/edge-fuzz.js';
import { EVERYTHING_STDIO } from '../helpers/everything.js';
import { openSession } from '../helpers/mcp-http.js';

const started: DemoProcess[] = [];
afterEach(async () => {
  for (const gateway of started.splice(0)) await gateway.kill('SIGKILL');
});

describe.each([
  ['the bundled demo', ['--demo-upstream']],
  // Generated initializes open sessions nobody ends: a cap of 40 (503 past it, a correct answer)
  // and a short child idle timeout keep the children few.
  ['server-everything over stdio', ['--stdio', EVERYTHING_STDIO, '--spares', '1', '--max-sessions', '40', '--child-idle-timeout', '2s']],
])('the HTTP edge in front of %s', (_, upstream) => {
  it('answers 3,000 generated requests within their deadline, never 5xx, and stays up', async () => {
    const gateway = await startCli(['--port', '0', '--store', 'memory', '--request-timeout', '5s', ...upstream]);
    started.push(gateway);
    let live = '';
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(edgeRequests, async (edge) => {
        // Past the session cap the last live session is reused (503 is the right answer there).
        if (runs++ % 10 === 0) live = await openSession(gateway.url).catch(() => live);
        const status = await sendEdge(gateway.url, edge, 10_000, live);
        expect(status, JSON.stringify(edge).slice(0, 500)).toBeLessThan(500);
      }),
      { seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31), numRuns: 3000 },
    );
    expect(gateway.child.exitCode).toBeNull();
  });
});
