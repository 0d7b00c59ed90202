/**
 * No timer, socket or stream bookkeeping is left behind by any path: normal calls, streamed
 * calls, GET streams, clients that vanish mid-stream, DELETE, expiry and shutdown.
 */
import { expect, it } from 'vitest';
import { ManualClock } from './helpers/clock.js';
import { openSession, send, sseMessages, toolCall } from './helpers/mcp-http.js';
import { startServer } from './helpers/test-server.js';

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

it('after every path and close(), timers and sockets are back to where they were', async () => {
  await settle();
  const before = handles();
  const clock = new ManualClock();
  const running = await startServer({ clock, idleTimeoutMs: 60_000, sweepIntervalMs: 10 });
  const { url, server } = running;

  const id = await openSession(url);
  const headers = { 'mcp-session-id': id };
  await send(url, { body: toolCall('echo', { text: 'x' }), headers });
  await send(url, {
    body: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: { ms: 30 }, _meta: { progressToken: 1 } } },
    headers,
  });

  // A client that leaves in the middle of a streamed call (S12: the work is not cancelled).
  const leaving = new AbortController();
  const streamed = await fetch(url, {
    method: 'POST',
    signal: leaving.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 200 }, _meta: { progressToken: 2 } },
    }),
  });
  expect(streamed.status).toBe(200);
  leaving.abort();

  // A GET stream whose client leaves: the session can open a new one afterwards (no 409).
  const gone = new AbortController();
  const first = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: gone.signal });
  expect(first.status).toBe(200);
  gone.abort();
  await settle();
  const again = new AbortController();
  const second = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: again.signal });
  expect(second.status).toBe(200);
  again.abort();

  // A session ended by DELETE while its GET stream is open, and one that expires with one open.
  const doomed = await openSession(url);
  const open = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': doomed } });
  expect((await send(url, { method: 'DELETE', headers: { 'mcp-session-id': doomed } })).status).toBe(204);
  await open.text();
  const expiring = await openSession(url);
  const held = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': expiring } });
  clock.advance(61_000);
  expect(sseMessages(await held.text())).toEqual([]); // the sweeper ended it (after the priming event only)
  expect(server.sessions.heldHere).toBe(0);

  await new Promise((resolve) => setTimeout(resolve, 250)); // let the abandoned slow call finish
  await running.close();
  await settle();
  const after = handles();
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPServerWrap']) expect(after[kind] ?? 0, kind).toBe(before[kind] ?? 0);
});
