/**
 * The client's HTTP layer (client/http.ts, client/response-body.ts) against real node:http
 * servers: bodies read whole, streamed with a slow reader (paused and resumed), dumped (small:
 * the connection is kept; large: it is closed), broken mid-body, aborted, after a 103.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../src/client/http.js';

const servers: Server[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: URL; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (socket) => sockets.add(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp?x=1`), sockets };
}

function agent(): Agent {
  const made = new Agent({ connections: 1 });
  agents.push(made);
  return made;
}

const block = (size: number, seed: number): Buffer => Buffer.alloc(size, seed % 251);

describe('client HTTP', () => {
  it('reads a JSON body whole, with the path and query sent as given', async () => {
    let seen = '';
    const { url } = await serve((req, res) => {
      seen = req.url!;
      res.writeHead(200, { 'content-type': 'application/json', 'x-two': ['a', 'b'] });
      res.end(JSON.stringify({ ok: true, text: 'é' }));
    });
    const answer = await send(url, 'POST', { 'content-type': 'application/json' }, { body: '{}', dispatcher: agent() });
    expect(answer.status).toBe(200);
    expect(answer.header('x-two')).toBe('a, b');
    expect(await answer.body.json()).toEqual({ ok: true, text: 'é' });
    expect(seen).toBe('/mcp?x=1');
  });

  it('streams 4 MB to a slow reader without losing or reordering a byte', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => block(64 * 1024, i));
    const expected = createHash('sha256');
    for (const chunk of chunks) expected.update(chunk);
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const write = (): void => {
        while (i < chunks.length) if (!res.write(chunks[i++])) return void res.once('drain', write);
        res.end();
      };
      write();
    });
    const answer = await send(url, 'GET', {}, { dispatcher: agent() });
    const hash = createHash('sha256');
    let reads = 0;
    for await (const chunk of answer.body) {
      hash.update(chunk);
      // Slow at first, so the body fills past the high-water mark and the connection pauses.
      if (reads++ < 5) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  });

  it('dump() keeps the connection for a small body and closes it for a large one', async () => {
    const { url, sockets } = await serve((req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(req.url!.includes('large') ? block(1024 * 1024, 1) : 'not here');
    });
    const dispatcher = agent();
    for (let i = 0; i < 3; i++) await (await send(url, 'GET', {}, { dispatcher })).body.dump();
    expect(sockets.size).toBe(1);
    await (await send(new URL('/large', url), 'GET', {}, { dispatcher })).body.dump();
    await (await send(url, 'GET', {}, { dispatcher })).body.dump();
    expect(sockets.size).toBe(2);
  });

  it('a connection broken mid-body fails the read; one refused before any answer is SG_CLIENT_CONNECTION', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => res.socket!.destroy(), 20);
    });
    const answer = await send(url, 'GET', {}, { dispatcher: agent() });
    await expect(answer.body.text()).rejects.toThrow();
    const closed = new URL(url);
    closed.port = '1';
    await expect(send(closed, 'GET', {}, { dispatcher: agent() })).rejects.toMatchObject({ code: 'SG_CLIENT_CONNECTION' });
  });

  it('an abort signal ends a request before its answer and a body mid-stream; destroy() closes the connection', async () => {
    const { url } = await serve((req, res) => {
      if (req.url!.startsWith('/never')) return; // never answers
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    });
    const early = new AbortController();
    const pending = send(new URL('/never', url), 'GET', {}, { signal: early.signal, dispatcher: agent() });
    setTimeout(() => early.abort(), 30);
    await expect(pending).rejects.toMatchObject({ code: 'SG_CLIENT_CONNECTION' });
    await expect(send(url, 'GET', {}, { signal: AbortSignal.abort(), dispatcher: agent() })).rejects.toMatchObject({
      code: 'SG_CLIENT_CONNECTION',
    });

    const late = new AbortController();
    const answer = await send(url, 'GET', {}, { signal: late.signal, dispatcher: agent() });
    const read: string[] = [];
    const reading = (async () => {
      for await (const chunk of answer.body) read.push(Buffer.from(chunk).toString());
    })();
    setTimeout(() => late.abort(), 50);
    await expect(reading).rejects.toThrow();
    expect(read.join('')).toBe('data: one\n\n');

    const other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    });
    const destroyed = await send(other.url, 'GET', {}, { dispatcher: agent() });
    const [socket] = [...other.sockets];
    expect(socket!.destroyed).toBe(false);
    destroyed.body.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket!.destroyed).toBe(true);
  });

  it('an informational 103 is skipped: the answer is the final status', async () => {
    const { url } = await serve((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"final":true}');
    });
    const answer = await send(url, 'GET', {}, { dispatcher: agent() });
    expect(answer.status).toBe(200);
    expect(await answer.body.json()).toEqual({ final: true });
  });
});
