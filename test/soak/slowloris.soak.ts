/**
 * Slow clients cannot hold connections (docs/limits.md, "Connections"): headers must arrive
 * within 10 s and a whole request within 30 s. Slow by nature (it waits for those deadlines), so
 * it runs in the soak script.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type DemoProcess } from '../helpers/demo-process.js';

let gateway: DemoProcess;
beforeAll(async () => {
  gateway = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream']);
});
afterAll(async () => {
  await gateway?.kill('SIGKILL');
});

/** Writes `text` on a new connection and resolves with what came back and when the server closed it. */
function holdOpen(text: string): Promise<{ answer: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket: Socket = connect(Number(port), hostname, () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
  });
}

describe('slowloris', () => {
  it('a connection whose headers never finish is closed within about 10 s', async () => {
    const { closedAfterMs } = await holdOpen('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(closedAfterMs).toBeLessThan(15_000);
  });

  it('a body that never finishes is answered 408 and closed within about 30 s', async () => {
    const { answer, closedAfterMs } = await holdOpen(
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":',
    );
    expect(closedAfterMs).toBeLessThan(36_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});
