/**
 * What one anonymous client must not be able to do to everyone else (issue "abuse"): messages
 * an MCP SDK drops without answering, client text the gateway cannot carry, and inputs that
 * answered 500. Against the gateway in front of the reference server-everything over HTTP (a
 * real SDK server behind), over real sockets; each case failed before its fix (a hang or a 5xx).
 */
import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './helpers/test-server.js';
import type { JsonRpcResponse } from '../src/protocol/jsonrpc.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { EVERYTHING_STDIO, freePort, startEverythingHttp, type EverythingHttp } from './helpers/everything.js';
import { initializeRequest, openSession, postStream, send } from './helpers/mcp-http.js';
import { startProcess } from './helpers/processes.js';
import { pausedCallStream, untilStalled } from './helpers/paused-stream.js';

const ADMIN_TOKEN = 'abuse-test-admin-token';

/** The gateway CLI's gateway, in process, on a free port with a memory store, and `args`. */
function memoryGateway(args: string[]): Promise<InProcessGateway> {
  return startGateway(['--port', '0', '--store', 'memory', ...args]);
}
/** The same as the real command, for what reads its stderr or signals it. */
function memoryGatewayProcess(args: string[]): Promise<DemoProcess> {
  return startCli(['--port', '0', '--store', 'memory', ...args]);
}
let upstream: EverythingHttp;
let gateway: InProcessGateway;
let headers: Record<string, string>;

beforeAll(async () => {
  upstream = await startEverythingHttp();
  gateway = await memoryGateway(['--upstream', upstream.url, '--admin-token', ADMIN_TOKEN]);
  headers = { 'mcp-session-id': await openSession(gateway.url), 'mcp-protocol-version': '2025-11-25' };
});
afterAll(async () => {
  await gateway?.kill();
  await upstream?.kill();
});

/** A POST answered within `ms`, or a failure naming the hang. */
async function answered(body: string, extra: Record<string, string> = headers, ms = 5000): Promise<{ status: number; json: unknown }> {
  const answer = await Promise.race([
    send(gateway.url, { rawBody: body, headers: extra }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
  return { status: answer.status, json: answer.json };
}

/** The response in an SSE answer, with how many progress notifications came before it. */
function responseIn(text: string): unknown {
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 6) // not the priming event's empty data
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  const progress = messages.filter((message) => message['method'] === 'notifications/progress').length;
  return { ...messages.find((message) => 'id' in message && !('method' in message)), progress };
}

/**
 * The first progress notification of a call's stream (anything else the server sends meanwhile,
 * such as server-everything's list_changed right after initialize, is passed over).
 */
async function firstProgress(stream: { next(ms?: number): Promise<unknown> }): Promise<unknown> {
  for (let next = await stream.next(10_000); next !== undefined; next = await stream.next(10_000)) {
    if ((next as { method?: string }).method === 'notifications/progress') return next;
  }
  return undefined;
}

const deep = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('JSON-RPC an SDK server drops without an answer is refused at the edge: 400 -32600, never a hang', () => {
  it.each([
    ['a fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}'],
    ['an id past 2^53', '{"jsonrpc":"2.0","id":90071992547409930,"method":"ping"}'],
    ['an unknown member', '{"jsonrpc":"2.0","id":7,"method":"ping","extra":1}'],
    ['result beside method', '{"jsonrpc":"2.0","id":8,"method":"ping","result":{}}'],
    ['a progressToken that is an object', '{"jsonrpc":"2.0","id":9,"method":"ping","params":{"_meta":{"progressToken":{}}}}'],
    ['_meta that is not an object', '{"jsonrpc":"2.0","id":10,"method":"ping","params":{"_meta":5}}'],
    ['a fractional error code in a response', '{"jsonrpc":"2.0","id":11,"error":{"code":1.5,"message":"m"}}'],
    ['a method name of 100,000 characters', `{"jsonrpc":"2.0","id":12,"method":"${'m'.repeat(100_000)}"}`],
  ])('%s', async (_, body) => {
    const answer = await answered(body);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: -32600, data: { code: 'SG_INVALID_REQUEST' } } });
  });

  it('the session is unharmed: its next call is answered', async () => {
    const answer = await answered(
      '{"jsonrpc":"2.0","id":"after","method":"tools/call","params":{"name":"echo","arguments":{"message":"still here"}}}',
    );
    expect(JSON.stringify(answer.json)).toContain('still here');
  });
});

describe('client mistakes are 4xx with a stable code, never 500', () => {
  it.each([['a space'], ['a\ttab'], ['non-ASCII é'], ['x'.repeat(129)]])('an Mcp-Client-Session-Id with %j', async (value) => {
    const answer = await answered(JSON.stringify(initializeRequest()), { 'mcp-client-session-id': value });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { data: { code: 'SG_INVALID_CLIENT_SESSION_ID' } } });
  });

  it.each([
    ['a notification', (nested: string) => `{"jsonrpc":"2.0","method":"notifications/x","params":${nested}}`, true],
    ['a request', (nested: string) => `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":${nested}}`, true],
    ['a response', (nested: string) => `{"jsonrpc":"2.0","id":5,"result":${nested}}`, true],
    ['an initialize', (nested: string) => `{"jsonrpc":"2.0","id":5,"method":"initialize","params":${nested}}`, false],
  ])('params nested 100,000 deep on %s', async (_, body, inSession) => {
    const answer = await answered(body(deep(100_000)), inSession ? headers : {});
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: -32600, data: { code: 'SG_INVALID_REQUEST' } } });
  });

  it('nesting up to the documented 64 levels is carried', async () => {
    const args = `{"message":"deep enough","extra":${deep(60)}}`;
    const answer = await answered(`{"jsonrpc":"2.0","id":"d","method":"tools/call","params":{"name":"echo","arguments":${args}}}`);
    expect(JSON.stringify(answer.json)).toContain('deep enough');
  });

  it('initialize params over 64 KiB are refused (413), no session is kept; a sessionless conversation alike', async () => {
    const live = async (): Promise<number> =>
      Number(/^sessiongate_sessions_live (\d+)$/m.exec(await (await fetch(gateway.url.replace(/\/mcp$/, '/metrics'))).text())?.[1]);
    const before = await live();
    const init = initializeRequest() as { params: { clientInfo: { name: string } } };
    init.params.clientInfo.name = 'n'.repeat(100_000);
    const answer = await answered(JSON.stringify(init), {});
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ error: { data: { code: 'SG_INITIALIZE_TOO_LARGE' } } });
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { experimental: { padding: 'p'.repeat(100_000) } },
    };
    const sessionless = await answered(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
    });
    expect(sessionless.status).toBe(413);
    expect(await live()).toBe(before);
  });

  it('/admin/sessions/% (malformed percent-encoding) is 400', async () => {
    const response = await fetch(gateway.url.replace(/\/mcp$/, '/admin/sessions/%'), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(400);
  });
});

/**
 * A session, though `--request-timeout` may be shorter than a stdio child takes to start on a
 * loaded machine (its initialize is a request too, and `--spares 0` spawns the child for it):
 * what these tests time is the calls, so the initialize is asked again until a child answers
 * it in time (at most five tries).
 */
async function openWithinDeadline(url: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openSession(url);
    } catch (error) {
      if (attempt === 5 || !String(error).includes('SG_REQUEST_TIMEOUT')) throw error;
    }
  }
}

describe('no request holds anything forever', () => {
  const gateways: { kill(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const started of gateways) await started.kill();
  });
  async function gatewayWith(args: string[]): Promise<{
    url: string;
    call: (id: number | string, args: object, meta?: object) => Promise<unknown>;
    headers: Record<string, string>;
  }> {
    const started = await memoryGateway(['--spares', '0', ...args]);
    gateways.push(started);
    const session = { 'mcp-session-id': await openWithinDeadline(started.url), 'mcp-protocol-version': '2025-11-25' };
    const call = async (id: number | string, args: object, meta?: object): Promise<unknown> => {
      const params = { name: 'trigger-long-running-operation', arguments: args, ...(meta ? { _meta: meta } : {}) };
      const answer = await send(started.url, { body: { jsonrpc: '2.0', id, method: 'tools/call', params }, headers: session });
      return answer.json ?? responseIn(answer.text);
    };
    return { url: started.url, call, headers: session };
  }

  it.each([
    // A spare child is started with the gateway: on a loaded machine server-everything took more than the 2 s deadline to start, five times over.
    ['stdio', () => ['--stdio', EVERYTHING_STDIO, '--spares', '1']],
    ['HTTP', () => ['--upstream', upstream.url]],
  ])('%s: --request-timeout answers -32001 and frees the id; progress keeps a call alive', async (_, upstreamArgs) => {
    const { call } = await gatewayWith([...upstreamArgs(), '--request-timeout', '2s']);
    const started = Date.now();
    expect(await call(1, { duration: 8, steps: 1 })).toMatchObject({
      id: 1,
      error: { code: -32001, data: { code: 'SG_REQUEST_TIMEOUT' } },
    });
    expect(Date.now() - started).toBeLessThan(7000);
    // The id is free again at once (stdio kept it "in use" forever: 409).
    expect(await call(1, { duration: 0.1, steps: 1 })).toMatchObject({
      id: 1,
      result: { content: [{ text: expect.stringContaining('completed') }] },
    });
    // Progress every quarter second: well past the deadline in all, never near it between signs of life.
    const streamed = await call(2, { duration: 3.5, steps: 14 }, { progressToken: 'p' });
    expect(streamed).toMatchObject({ id: 2, result: { content: [{ text: expect.stringContaining('completed') }] } });
    expect((streamed as { progress: number }).progress).toBeGreaterThanOrEqual(10);
  });

  it.each([
    ['stdio', () => ['--stdio', EVERYTHING_STDIO]],
    ['HTTP', () => ['--upstream', upstream.url]],
  ])('%s: DELETE answers the session’s requests in flight at once', async (_, upstreamArgs) => {
    const { url, headers } = await gatewayWith(upstreamArgs());
    const params = { name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 }, _meta: { progressToken: 't' } };
    const calling = await postStream(url, headers, { jsonrpc: '2.0', id: 3, method: 'tools/call', params });
    // In flight in the child once its first progress arrives; a DELETE now must not wait 20 s.
    expect(await firstProgress(calling)).toMatchObject({ method: 'notifications/progress' });
    const started = Date.now();
    expect((await send(url, { method: 'DELETE', headers })).status).toBe(204);
    let last: unknown;
    for (let next = await calling.next(10_000); next !== undefined; next = await calling.next(10_000)) last = next;
    expect(last).toMatchObject({ id: 3, error: { data: { code: 'SG_SESSION_ENDED' } } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('--max-inflight-per-session: 429 past the cap for that session only', async () => {
    const { url, call, headers } = await gatewayWith([
      '--stdio',
      EVERYTHING_STDIO,
      // A spare started with the gateway (as above: a cold server-everything outlasted the deadline five times under load).
      '--spares',
      '1',
      '--max-inflight-per-session',
      '2',
      '--request-timeout',
      '3s',
    ]);
    const held = [call(10, { duration: 3, steps: 1 }), call(11, { duration: 3, steps: 1 })];
    // Both are in flight once a third is refused; retried until then (the first two may still be on their way).
    // Waited on the condition, not a count of tries: on a loaded machine the child may be slow to start.
    let refused: { status: number; headers: Headers } | undefined;
    let n = 0;
    await expect
      .poll(
        async () => {
          const third = await send(url, { body: { jsonrpc: '2.0', id: 100 + n++, method: 'ping' }, headers });
          if (third.status === 429) refused = third;
          return third.status;
        },
        { timeout: 2500, interval: 20 },
      )
      .toBe(429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    // Another session is not affected.
    const other = { 'mcp-session-id': await openWithinDeadline(url), 'mcp-protocol-version': '2025-11-25' };
    expect((await send(url, { body: { jsonrpc: '2.0', id: 1, method: 'ping' }, headers: other })).status).toBe(200);
    await Promise.all(held);
  });

  it("--upstream-concurrency: past it sessions take turns, so one session's backlog does not stand before another's ping", async () => {
    const started = await memoryGateway(['--upstream', upstream.url, '--upstream-concurrency', '2']);
    gateways.push(started);
    const open = async () => ({ 'mcp-session-id': await openSession(started.url), 'mcp-protocol-version': '2025-11-25' });
    const [flooding, other] = [await open(), await open()];
    const finished: string[] = [];
    const call = (id: number) => {
      const params = { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } };
      return send(started.url, { body: { jsonrpc: '2.0', id, method: 'tools/call', params }, headers: flooding }).then(() => {
        finished.push(`call ${id}`);
      });
    };
    const calls = [1, 2, 3, 4, 5, 6].map(call);
    // Two run, four wait their turn (the gauge says so), queued before the other session's ping.
    const waiting = async () =>
      /sessiongate_upstream_waiting_requests (\d+)/.exec(await (await fetch(started.url.replace(/mcp$/, 'metrics'))).text())?.[1];
    await expect.poll(waiting, { timeout: 10_000 }).toBe('4');
    const ping = send(started.url, { body: { jsonrpc: '2.0', id: 1, method: 'ping' }, headers: other }).then((answer) => {
      finished.push('ping');
      return answer.status;
    });
    expect(await ping).toBe(200);
    await Promise.all(calls);
    // One freed slot went to the flood's next call, the other to the ping: first-come would have
    // run all four waiting calls first.
    expect(finished.indexOf('ping')).toBeLessThan(4);
  });

  it('SIGTERM exits within --shutdown-grace with calls in flight, answering them', async () => {
    const started = await memoryGatewayProcess(['--upstream', upstream.url, '--shutdown-grace', '1s']);
    gateways.push(started);
    const headers = { 'mcp-session-id': await openSession(started.url), 'mcp-protocol-version': '2025-11-25' };
    const params = { name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 }, _meta: { progressToken: 's' } };
    const calling = await postStream(started.url, headers, { jsonrpc: '2.0', id: 4, method: 'tools/call', params });
    expect(await firstProgress(calling)).toMatchObject({ method: 'notifications/progress' });
    const stopping = Date.now();
    await started.kill('SIGTERM');
    expect(Date.now() - stopping).toBeLessThan(6000);
    let last: unknown;
    for (let next = await calling.next(5000); next !== undefined; next = await calling.next(5000)) last = next;
    expect(last).toMatchObject({ id: 4, error: { data: { code: 'SG_SHUTTING_DOWN' } } });
  });
});

describe('a message over --max-message-size fails its call, not the gateway', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
  });
  const bigCall = (id: number, size: number) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'big', arguments: { size } },
  });

  it('stdio: the child is restarted with the reason, and the session goes on', async () => {
    const started = await memoryGateway(['--spares', '0', '--max-message-size', '1mb', '--stdio', `${process.execPath} ${FIXTURE}`]);
    closers.push(() => started.kill());
    const session = { 'mcp-session-id': await openWithinDeadline(started.url), 'mcp-protocol-version': '2025-11-25' };
    const whoami = async (id: number): Promise<unknown> =>
      (
        await send(started.url, {
          body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
          headers: session,
        })
      ).json;
    const before = JSON.stringify(await whoami(1));
    expect(JSON.stringify((await send(started.url, { body: bigCall(2, 500_000), headers: session })).json)).toContain('b'.repeat(1000));
    const refused = await send(started.url, { body: bigCall(3, 2_000_000), headers: session });
    expect(refused.status).toBe(200);
    expect(refused.json).toMatchObject({ id: 3, error: { message: expect.stringContaining('over the 1048576-byte limit') } });
    const after = JSON.stringify(await whoami(4));
    expect(after).not.toBe(before);
  });

  it('HTTP: a JSON answer over the limit is refused at the limit, not buffered', async () => {
    const huge = 'h'.repeat(3 * 1024 * 1024);
    const upstream = await startServer({
      application: {
        async handle(request): Promise<JsonRpcResponse> {
          if (request.method === 'initialize') {
            return {
              jsonrpc: '2.0',
              id: request.id,
              result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'huge', version: '1' } },
            };
          }
          const size =
            request.method === 'tools/call'
              ? Number(request.params?.['arguments'] && (request.params['arguments'] as { size: number }).size)
              : 0;
          return { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: huge.slice(0, size) }] } };
        },
        receive() {},
      },
    });
    closers.push(() => upstream.close());
    const started = await memoryGateway(['--max-message-size', '1mb', '--upstream', upstream.url]);
    closers.push(() => started.kill());
    const session = { 'mcp-session-id': await openWithinDeadline(started.url), 'mcp-protocol-version': '2025-11-25' };
    expect(JSON.stringify((await send(started.url, { body: bigCall(1, 100_000), headers: session })).json)).toContain('h'.repeat(1000));
    const refused = await send(started.url, { body: bigCall(2, 3 * 1024 * 1024), headers: session });
    expect(refused.json).toMatchObject({ id: 2, error: { message: expect.stringContaining('over the 1048576-byte limit') } });
    expect(JSON.stringify((await send(started.url, { body: bigCall(3, 10), headers: session })).json)).toContain('hhhhhhhhhh');
  });
});

describe('session caps an attacker can neither walk around nor turn against others', () => {
  it('anonymous callers share one bucket; rotating Authorization values cannot evict another person', async () => {
    const started = await memoryGateway([
      '--upstream',
      upstream.url,
      '--max-sessions',
      '4',
      '--max-sessions-per-principal',
      '2',
      '--on-cap',
      'evict',
    ]);
    try {
      const ping = async (id: string, auth: Record<string, string> = {}) =>
        (
          await send(started.url, {
            body: { jsonrpc: '2.0', id: 9, method: 'ping' },
            headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', ...auth },
          })
        ).status;
      const victimAuth = { authorization: 'Bearer victim' };
      const victim = await openSession(started.url, '2025-11-25', victimAuth);
      // Anonymous callers together are held to the per-principal cap: the third evicts the first.
      const anonymous = [await openSession(started.url), await openSession(started.url)];
      anonymous.push(await openSession(started.url));
      expect(await Promise.all(anonymous.map((id) => ping(id)))).toEqual([404, 200, 200]);
      // The gateway is full (victim, two anonymous, one rotating value); every new value has no
      // session of its own to give up, so it is refused rather than evicting someone else's.
      await openSession(started.url, '2025-11-25', { authorization: 'Bearer rotating-0' });
      for (let i = 1; i <= 3; i++) {
        const refused = await send(started.url, { body: initializeRequest(), headers: { authorization: `Bearer rotating-${i}` } });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('30');
      }
      expect(await ping(victim, victimAuth)).toBe(200);
    } finally {
      await started.kill();
    }
  });
});

describe('connections', () => {
  it('a body past the limit gets its 413 even when the client sends it all before reading (lingering close)', async () => {
    for (let run = 0; run < 3; run++) {
      const answer = await sendWholeThenRead(gateway.url, 24 * 1024 * 1024);
      expect(answer.slice(0, 12)).toBe('HTTP/1.1 413');
      expect(answer.toLowerCase()).toContain('connection: close');
    }
  });

  it('/metrics, /readyz and /admin check the Host header as /mcp does (DNS rebinding)', async () => {
    const base = gateway.url.replace(/\/mcp$/, '');
    for (const path of ['/metrics', '/readyz', '/admin/sessions']) {
      const status = await rawStatus(base, path, 'evil.example');
      expect([path, status]).toEqual([path, 403]);
    }
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('/readyz says 503 "saturated" at 90% of --max-connections, and ready again once they close', async () => {
    const started = await memoryGateway(['--upstream', upstream.url, '--max-connections', '4']);
    try {
      const { hostname: host, port } = new URL(started.url);
      const readyz = started.url.replace(/\/mcp$/, '/readyz');
      const held = await Promise.all([1, 2, 3].map(() => openSocket(host, Number(port))));
      // The probe's own connection is the fourth: 4 of 4 open.
      const saturated = await fetch(readyz);
      expect(saturated.status).toBe(503);
      expect(JSON.stringify(await saturated.json())).toContain('saturated: 4 of 4 connections open');
      for (const socket of held) socket.destroy();
      await expect.poll(async () => (await fetch(readyz)).status, { timeout: 5000 }).toBe(200);
    } finally {
      await started.kill();
    }
  });

  it('--max-connections refuses connections past the cap; those within are served', async () => {
    const started = await memoryGateway(['--upstream', upstream.url, '--max-connections', '2']);
    try {
      const { hostname: host, port } = new URL(started.url);
      const held = await Promise.all([openSocket(host, Number(port)), openSocket(host, Number(port))]);
      const third = await openSocket(host, Number(port));
      // Node closes a connection past maxConnections as it accepts it.
      await new Promise<void>((resolve) => (third.destroyed ? resolve() : third.once('close', () => resolve())));
      for (const socket of held) socket.destroy();
      await expect
        .poll(async () => (await fetch(started.url.replace(/\/mcp$/, '/healthz')).catch(() => undefined))?.status, { timeout: 5000 })
        .toBe(200);
    } finally {
      await started.kill();
    }
  });
});

/** Sends a whole oversized POST before reading anything (as most clients do), then reads the answer. */
function sendWholeThenRead(url: string, bodyBytes: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => {
      const head = `POST /mcp HTTP/1.1\r\nHost: ${hostname}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
      socket.write(head);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = bodyBytes;
      const pump = (): void => {
        while (left > 0) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          if (!socket.write(piece)) return void socket.once('drain', pump);
        }
        // Only now start reading.
        socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
        socket.resume();
      };
      socket.pause();
      pump();
    });
    socket.once('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.once('close', () => resolve(answer));
  });
}

/** The status of a GET sent with a chosen Host header (fetch does not let one set it). */
function rawStatus(base: string, path: string, host: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: url.hostname, port: url.port, path, headers: { host, authorization: `Bearer ${ADMIN_TOKEN}` } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.once('error', reject);
    request.end();
  });
}

function openSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a client that does not read its stream', () => {
  it('a GET stream with more than 8 MiB waiting unread is ended, with the reason logged', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
    const started = await memoryGatewayProcess(['--spares', '0', '--stdio', `${process.execPath} ${fixture}`]);
    try {
      const sessionId = await openSession(started.url);
      const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
      // A GET stream whose reader stops reading once the answer's headers arrive.
      const { hostname, port } = new URL(started.url);
      const reader = connect(Number(port), hostname, () =>
        reader.write(
          `GET /mcp HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sessionId}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n`,
        ),
      );
      const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
      const head = await new Promise<string>((resolve) => reader.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
      expect(head.slice(0, 12)).toBe('HTTP/1.1 200');
      reader.pause();
      const flood = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'flood', arguments: { count: 64, size: 512 * 1024 } } };
      expect((await send(started.url, { body: flood, headers })).status).toBe(200);
      await expect.poll(() => started.output(), { timeout: 20_000 }).toContain('more than 8 MiB waited unread');
      reader.destroy();
      await closed;
      // The session goes on.
      const ping = await send(started.url, { body: { jsonrpc: '2.0', id: 2, method: 'ping' }, headers });
      expect(ping.status).toBe(200);
    } finally {
      await started.kill('SIGKILL');
    }
  });

  it("a call stream read slowly pauses the HTTP upstream's answer instead of being ended: nothing lost", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'sg-behind-')), 'upstream.log');
    writeFileSync(log, '');
    const sdkUpstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', log]);
    const started = await memoryGatewayProcess(['--upstream', sdkUpstream.url]);
    try {
      const sessionId = await openSession(started.url);
      const reader = await pausedCallStream(started.url, sessionId);
      // The upstream has written all 32 MiB (its SDK transport does not wait for the socket):
      // read at once, more than 8 MiB would now wait in the gateway and its stream be ended.
      await expect.poll(() => readFileSync(log, 'utf8').includes('"streamed":64'), { timeout: 20_000 }).toBe(true);
      await expect.poll(() => streamsBehind(started.url), { timeout: 20_000 }).toBe('1');
      const text = await reader.readToEnd('streamed 64');
      expect(text.match(/"progress":\d+/g) ?? []).toHaveLength(64);
      expect(started.output()).not.toContain('waited unread');
    } finally {
      await started.kill('SIGKILL');
      await sdkUpstream.kill();
    }
  });

  it('a call stream read slowly pauses the child instead of being ended: nothing lost, nothing piled up', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
    const started = await memoryGatewayProcess(['--spares', '0', '--stdio', `${process.execPath} ${fixture}`]);
    try {
      const reader = await pausedCallStream(started.url, await openSession(started.url));
      // The gateway stops reading the child (the gauge says so) rather than ending the stream...
      await expect.poll(() => streamsBehind(started.url), { timeout: 20_000 }).toBe('1');
      // ...and the child stalls (its sends wait for stdout to drain) far short of the 64: the same
      // count at two looks half a second apart. Read without pause, it would finish them all.
      const sent = () => Math.max(0, ...[...started.output().matchAll(/stream sent (\d+)/g)].map((match) => Number(match[1])));
      await untilStalled(sent);
      expect(sent()).toBeLessThan(32);
      const text = await reader.readToEnd('streamed 64');
      expect(text.match(/"progress":\d+/g) ?? []).toHaveLength(64);
      expect(started.output()).not.toContain('waited unread');
      expect(await streamsBehind(started.url)).toBe('0');
    } finally {
      await started.kill('SIGKILL');
    }
  });
});

describe('an upstream that answers with broken JSON-RPC', () => {
  /**
   * A raw HTTP "MCP server": the gateway's start-up probe gets a valid handshake, later
   * initializes `initializeResult`, and every call `answer`.
   */
  async function brokenUpstream(
    initializeResult: unknown,
    answer: (id: unknown) => unknown,
  ): Promise<{ url: string; close(): Promise<void> }> {
    let initializes = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.method !== 'POST') return void res.writeHead(405).end();
        const message = JSON.parse(body) as { id?: unknown; method: string };
        if (message.id === undefined) return void res.writeHead(202).end();
        const reply =
          message.method === 'initialize'
            ? { jsonrpc: '2.0', id: message.id, result: initializes++ === 0 ? goodInit : initializeResult }
            : answer(message.id);
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'upstream-session' }).end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const goodInit = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'broken', version: '1' } };

  it.each([
    ['"result": 5', (id: unknown) => ({ jsonrpc: '2.0', id, result: 5 })],
    ['"method": 5', (id: unknown) => ({ jsonrpc: '2.0', id, method: 5 })],
    ['an error with a fractional code', (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: 1.5, message: 'm' } })],
  ])('%s is not relayed: the client gets a clean error', async (_, answer) => {
    const upstream = await brokenUpstream(goodInit, answer);
    const started = await memoryGateway(['--upstream', upstream.url]);
    try {
      const headers = { 'mcp-session-id': await openSession(started.url), 'mcp-protocol-version': '2025-11-25' };
      const reply = await send(started.url, { body: { jsonrpc: '2.0', id: 7, method: 'tools/list' }, headers });
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32603 } });
    } finally {
      await started.kill();
      await upstream.close();
    }
  });

  it('an initialize answered with a result that is not an object creates no session', async () => {
    const upstream = await brokenUpstream(5, (id) => ({ jsonrpc: '2.0', id, result: {} }));
    const started = await memoryGateway(['--upstream', upstream.url, '--upstream-era', 'handshake']);
    try {
      const answer = await send(started.url, { body: initializeRequest() });
      expect(answer.headers.get('mcp-session-id')).toBeNull();
      expect(answer.json).toMatchObject({ error: { code: -32603 } });
      expect(started.output()).toContain('listening');
    } finally {
      await started.kill();
      await upstream.close();
    }
  });
});

/** The gateway's gauge of call streams whose source is paused. */
async function streamsBehind(url: string): Promise<string | undefined> {
  return /sessiongate_streams_behind (\d+)/.exec(await (await fetch(url.replace(/mcp$/, 'metrics'))).text())?.[1];
}
