/**
 * A client that stops reading a call's stream, for the backpressure tests (docs/limits.md,
 * "Streams"): a raw socket, paused once the answer's headers arrive.
 */
import { connect } from 'node:net';
import { expect } from 'vitest';

/**
 * A `stream` call (64 progress messages of 512 KiB: 32 MiB) over a raw socket whose reader
 * stops reading once the answer's headers arrive, until `readToEnd`.
 */
export async function pausedCallStream(url: string, sessionId: string): Promise<{ readToEnd(marker: string): Promise<string> }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 5,
    method: 'tools/call',
    params: { name: 'stream', arguments: { count: 64, size: 512 * 1024 }, _meta: { progressToken: 'slow' } },
  });
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () =>
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Mcp-Session-Id: ${sessionId}\r\nMcp-Protocol-Version: 2025-11-25\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => socket.once('data', (chunk: Buffer) => (chunks.push(chunk), resolve())));
  socket.pause();
  return {
    async readToEnd(marker) {
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.resume();
      await expect.poll(() => Buffer.concat(chunks).includes(marker), { timeout: 20_000 }).toBe(true);
      socket.destroy();
      return Buffer.concat(chunks).toString('latin1');
    },
  };
}

/**
 * Waits until `count` (what a producer has sent) is the same at two looks half a second apart:
 * the producer has stalled.
 */
export async function untilStalled(count: () => number): Promise<void> {
  let last = -1;
  await expect
    .poll(
      () => {
        const [before, now] = [last, (last = count())];
        return before === now;
      },
      { interval: 500, timeout: 20_000 },
    )
    .toBe(true);
}
