/**
 * The gateway's HTTP edge under generated requests (helpers/edge-fuzz.ts): a fixed seed and a
 * small budget here; the soak script runs many more.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { edgeRequests, sendEdge } from './helpers/edge-fuzz.js';
import { openSession } from './helpers/mcp-http.js';

let gateway: InProcessGateway;
let live = '';
let runs = 0;
beforeAll(async () => {
  gateway = await startGateway(['--port', '0', '--store', 'memory', '--demo-upstream', '--request-timeout', '5s']);
});
afterAll(async () => {
  await gateway?.kill();
});

describe('the HTTP edge under generated requests', () => {
  it('answers every one within its deadline, never 5xx, and stays up', async () => {
    await fc.assert(
      fc.asyncProperty(edgeRequests, async (edge) => {
        // A fresh live session now and then (a generated DELETE may have ended the last one).
        if (runs++ % 10 === 0) live = await openSession(gateway.url);
        const status = await sendEdge(gateway.url, edge, 10_000, live);
        expect(status, JSON.stringify(edge).slice(0, 500)).toBeGreaterThanOrEqual(200);
        expect(status, JSON.stringify(edge).slice(0, 500)).toBeLessThan(500);
      }),
      { seed: 20261127, numRuns: Number(process.env['FUZZ_RUNS'] ?? 150) },
    );
    // Still serving; a crash would have been an uncaught error here, which fails the run.
    expect((await fetch(gateway.url.replace(/\/mcp$/, '/healthz'))).status).toBe(200);
  }, 120_000);
});
