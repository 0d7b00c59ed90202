/**
 * The session server's rules (S1-S12 of the digest), over real sockets, per revision where
 * they differ.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HANDSHAKE_REVISIONS } from '../src/protocol/revisions.js';
import type { McpApplication } from '../src/server/application.js';
import { SessiongateError } from '../src/protocol/failures.js';
import { ManualClock } from './helpers/clock.js';
import { initializeRequest, openGetStream, openSession, send, sseMessages, toolCall } from './helpers/mcp-http.js';
import { rawPost } from './helpers/raw-http.js';
import { LOCAL_HOSTNAMES } from '../src/server/origin.js';
import { demoApp, startServer, type RunningServer } from './helpers/test-server.js';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  running = await startServer(options);
  return running;
}

function rpcError(json: unknown): { code: number; message: string } {
  return (json as { error: { code: number; message: string } }).error;
}

describe.each(HANDSHAKE_REVISIONS)('session lifecycle on %s', (version) => {
  it('initialize answers 200 and mints a 32-character visible-ASCII MCP-Session-Id (S1, S2)', async () => {
    const { url } = await start();
    const answer = await send(url, { body: initializeRequest(version) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect((answer.json as { result: { protocolVersion: string } }).result.protocolVersion).toBe(version);
    const id = answer.headers.get('mcp-session-id')!;
    expect(id).toMatch(/^[\x21-\x7e]{32}$/);
  });

  it('every initialize mints a different id', async () => {
    const { url } = await start();
    const ids = new Set(await Promise.all(Array.from({ length: 20 }, () => openSession(url, version))));
    expect(ids.size).toBe(20);
  });

  it('a request with the session id gets its answer (200) and the id is not echoed again', async () => {
    const { url } = await start();
    const id = await openSession(url, version);
    const answer = await send(url, {
      body: toolCall('echo', { text: 'hi' }),
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': version },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'hi' }] } });
  });

  it('a request without MCP-Protocol-Version is accepted (S9: the negotiated version applies)', async () => {
    const { url } = await start();
    const id = await openSession(url, version);
    const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } });
    expect(answer.status).toBe(200);
  });

  it('a request without the session id gets 400 (S3)', async () => {
    const { url } = await start();
    await openSession(url, version);
    const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-protocol-version': version } });
    expect(answer.status).toBe(400);
    expect(rpcError(answer.json).message).toMatch(/MCP-Session-Id/);
  });

  it('DELETE terminates (204); afterwards requests and a second DELETE get 404 (S4, S5)', async () => {
    const { url } = await start();
    const id = await openSession(url, version);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': version };
    expect((await send(url, { method: 'DELETE', headers })).status).toBe(204);
    expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers })).status).toBe(404);
    expect((await send(url, { method: 'DELETE', headers })).status).toBe(404);
  });

  it('notifications and responses get 202 with no body (S7)', async () => {
    const { url } = await start();
    const id = await openSession(url, version);
    const headers = { 'mcp-session-id': id };
    const note = await send(url, { body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } }, headers });
    expect([note.status, note.text]).toEqual([202, '']);
    const response = await send(url, { body: { jsonrpc: '2.0', id: 'srv-1', result: {} }, headers });
    expect([response.status, response.text]).toEqual([202, '']);
  });

  it('a second initialize on a live session gets 400', async () => {
    const { url } = await start();
    const id = await openSession(url, version);
    const answer = await send(url, { body: initializeRequest(version, 7), headers: { 'mcp-session-id': id } });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ id: 7, error: { code: -32600 } });
  });
});

describe('batches (S8)', () => {
  it('a batch on a 2025-03-26 session is answered with a JSON array (200)', async () => {
    const { url } = await start();
    const id = await openSession(url, '2025-03-26');
    const answer = await send(url, {
      body: [
        toolCall('echo', { text: 'a' }, 1),
        { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
        toolCall('echo', { text: 'b' }, 2),
      ],
      headers: { 'mcp-session-id': id },
    });
    expect(answer.status).toBe(200);
    expect((answer.json as { id: number }[]).map((r) => r.id)).toEqual([1, 2]);
  });

  it('a batch of notifications only gets 202', async () => {
    const { url } = await start();
    const id = await openSession(url, '2025-03-26');
    const answer = await send(url, { body: [{ jsonrpc: '2.0', method: 'notifications/initialized' }], headers: { 'mcp-session-id': id } });
    expect(answer.status).toBe(202);
  });

  it.each(['2025-06-18', '2025-11-25'])('a batch on a %s session gets 400', async (version) => {
    const { url } = await start();
    const id = await openSession(url, version);
    const answer = await send(url, {
      body: [toolCall('echo', { text: 'a' }, 1)],
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': version },
    });
    expect(answer.status).toBe(400);
    expect(rpcError(answer.json).code).toBe(-32600);
  });

  it('a batch carrying initialize gets 400 and creates no session', async () => {
    const { url, server } = await start();
    const answer = await send(url, { body: [initializeRequest('2025-03-26')] });
    expect(answer.status).toBe(400);
    expect(await server.sessions.count()).toBe(0);
  });
});

describe('unknown, expired and foreign sessions (S4)', () => {
  it('an unknown well-formed id gets 404 with JSON-RPC -32001', async () => {
    const { url } = await start();
    const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': 'A'.repeat(32) } });
    expect(answer.status).toBe(404);
    expect(rpcError(answer.json).code).toBe(-32001);
  });

  it('a malformed id gets 404, never 400 or 500', async () => {
    const { url } = await start();
    for (const id of ['short', '!'.repeat(32), 'x'.repeat(500), 'é'.repeat(32)]) {
      const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': encodeURIComponent(id) } });
      expect(answer.status).toBe(404);
    }
  });

  it('an idle session expires after the idle timeout (404), an active one slides', async () => {
    const clock = new ManualClock();
    const { url } = await start({ clock, idleTimeoutMs: 60_000 });
    const idle = await openSession(url);
    const active = await openSession(url);
    for (let i = 0; i < 4; i++) {
      clock.advance(20_000);
      expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': active } })).status).toBe(200);
    }
    expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': idle } })).status).toBe(404);
  });

  it('a session ends at its absolute lifetime even while active (404)', async () => {
    const clock = new ManualClock();
    const { url } = await start({ clock, idleTimeoutMs: 60_000, maxLifetimeMs: 100_000 });
    const id = await openSession(url);
    for (let i = 0; i < 4; i++) {
      clock.advance(20_000);
      expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } })).status).toBe(200);
    }
    clock.advance(20_000);
    expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } })).status).toBe(404);
  });

  it('a session used with another credential gets exactly the unknown-id answer (404)', async () => {
    const { url } = await start({ authenticate: (request) => request.header('authorization') });
    const id = await openSession(url, '2025-11-25', { authorization: 'Bearer alice' });
    const mine = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { 'mcp-session-id': id, authorization: 'Bearer alice' },
    });
    expect(mine.status).toBe(200);
    const theirs = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { 'mcp-session-id': id, authorization: 'Bearer mallory' },
    });
    const anonymous = await send(url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } });
    const unknown = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { 'mcp-session-id': 'B'.repeat(32), authorization: 'Bearer mallory' },
    });
    expect([theirs.status, anonymous.status]).toEqual([404, 404]);
    expect(theirs.text).toBe(unknown.text);
    // Nor can another principal end it.
    expect((await send(url, { method: 'DELETE', headers: { 'mcp-session-id': id, authorization: 'Bearer mallory' } })).status).toBe(404);
  });

  it('the record keeps a keyed hash of the identity, never the credential', async () => {
    const { url, server } = await start({ authenticate: (request) => request.header('authorization') });
    const id = await openSession(url, '2025-11-25', { authorization: 'Bearer secret-token-123' });
    const record = await server.sessions.peek(id);
    expect(record?.principal).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(record)).not.toContain('secret-token-123');
  });

  it('authenticate may return an Identity (its principal binds the session), a thenable, or null for anonymous', async () => {
    const seen: unknown[] = [];
    const app = demoApp();
    const { url, server } = await start({
      application: { ...app, handle: (request, context) => (seen.push(context.identity), app.handle(request, context)) },
      authenticate: (request) => {
        const who = request.header('authorization');
        if (who === 'plain-js-null') return null as never;
        const identity = { principal: `p:${who}`, claims: { sub: who } };
        // A thenable that is not a native promise, as another library might return.
        return who === 'thenable' ? ({ then: (resolve: (value: typeof identity) => void) => resolve(identity) } as never) : identity;
      },
    });
    const alice = await openSession(url, '2025-11-25', { authorization: 'alice' });
    expect(seen.at(-1)).toEqual({ principal: 'p:alice', claims: { sub: 'alice' } });
    const other = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { authorization: 'bob', 'mcp-session-id': alice, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(other.status).toBe(404);
    await openSession(url, '2025-11-25', { authorization: 'thenable' });
    expect(seen.at(-1)).toEqual({ principal: 'p:thenable', claims: { sub: 'thenable' } });
    const anonymous = await openSession(url, '2025-11-25', { authorization: 'plain-js-null' });
    expect((await server.sessions.peek(anonymous))?.principal).toBeNull();
    expect(seen.at(-1)).toBeUndefined();
  });

  it('authenticate may refuse a request with 401', async () => {
    const { url } = await start({
      authenticate: () => {
        throw new SessiongateError('SG_UNAUTHENTICATED');
      },
    });
    expect((await send(url, { body: initializeRequest() })).status).toBe(401);
  });
});

describe('caps (503 with Retry-After)', () => {
  it('past the global cap initialize gets 503 with Retry-After and no session', async () => {
    const { url, server } = await start({ maxSessions: 2, capRetryAfterSeconds: 7 });
    await openSession(url);
    await openSession(url);
    const answer = await send(url, { body: initializeRequest() });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(await server.sessions.count()).toBe(2);
  });

  it('past the per-principal cap that principal gets 503, others still get sessions', async () => {
    const { url } = await start({ maxSessionsPerPrincipal: 1, authenticate: (request) => request.header('authorization') });
    await openSession(url, '2025-11-25', { authorization: 'alice' });
    expect((await send(url, { body: initializeRequest(), headers: { authorization: 'alice' } })).status).toBe(503);
    expect((await send(url, { body: initializeRequest(), headers: { authorization: 'bob' } })).status).toBe(200);
  });

  it('a deleted session frees its place under the cap', async () => {
    const { url } = await start({ maxSessions: 1 });
    const id = await openSession(url);
    await send(url, { method: 'DELETE', headers: { 'mcp-session-id': id } });
    expect((await send(url, { body: initializeRequest() })).status).toBe(200);
  });
});

describe('transport checks', () => {
  it('an unsupported MCP-Protocol-Version gets 400 (S9)', async () => {
    const { url } = await start();
    const id = await openSession(url);
    const answer = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': '1999-01-01' },
    });
    expect(answer.status).toBe(400);
    expect(rpcError(answer.json).message).toMatch(/MCP-Protocol-Version/);
  });

  it('a wrong Content-Type gets 415', async () => {
    const { url } = await start();
    for (const contentType of ['text/plain', 'application/jsonx', 'application/json; charset=latin1']) {
      expect((await send(url, { body: initializeRequest(), headers: { 'content-type': contentType } })).status).toBe(415);
    }
    expect((await send(url, { body: initializeRequest(), headers: { 'content-type': 'Application/JSON; charset=UTF-8' } })).status).toBe(
      200,
    );
  });

  it('an Accept without both application/json and text/event-stream gets 406 on POST', async () => {
    const { url } = await start();
    for (const accept of ['application/json', 'text/event-stream', 'text/html', 'application/json, text/event-stream;q=0']) {
      expect((await send(url, { body: initializeRequest(), headers: { accept } })).status).toBe(406);
    }
    expect((await send(url, { body: initializeRequest(), headers: { accept: '*/*' } })).status).toBe(200);
  });

  it('malformed JSON gets 400 with -32700', async () => {
    const { url } = await start();
    const answer = await send(url, { rawBody: '{"jsonrpc": "2.0", "id": 1,' });
    expect(answer.status).toBe(400);
    expect(rpcError(answer.json).code).toBe(-32700);
  });

  it('JSON that is not JSON-RPC gets 400 with -32600', async () => {
    const { url } = await start();
    for (const body of [
      42,
      [],
      { jsonrpc: '1.0', method: 'x' },
      { jsonrpc: '2.0', id: {}, method: 'x' },
      { jsonrpc: '2.0', id: 1, result: 1 },
    ]) {
      const answer = await send(url, { body });
      expect(answer.status).toBe(400);
      expect(rpcError(answer.json).code).toBe(-32600);
    }
  });

  it('initialize with invalid params gets 400 with -32602 and creates no session', async () => {
    const { url, server } = await start();
    const answer = await send(url, { body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25' } } });
    expect(answer.status).toBe(400);
    expect(rpcError(answer.json).code).toBe(-32602);
    expect(answer.headers.get('mcp-session-id')).toBeNull();
    expect(await server.sessions.count()).toBe(0);
  });

  it('a body over the limit gets 413 without the server reading it all', async () => {
    const { url, server } = await start({ maxBodyBytes: 1024 });
    const declared = await send(url, { rawBody: JSON.stringify({ pad: 'x'.repeat(5000) }) });
    expect(declared.status).toBe(413);
    // A chunked body with no Content-Length, far larger than the limit, streamed slowly.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        sent += 64 * 1024;
        if (sent > 64 * 1024 * 1024) return controller.close();
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    const response = await fetch(url, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    } as RequestInit).catch((error: unknown) => error);
    if (response instanceof Response) expect(response.status).toBe(413);
    // The client stopped well before sending 64 MiB: the server refused early.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(await server.sessions.count()).toBe(0);
  });

  it('an unsupported method gets 405 with Allow', async () => {
    const { url } = await start();
    const answer = await send(url, { method: 'PUT', headers: {} });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, POST, DELETE, OPTIONS');
  });

  it('an initialize that the application answers with an error creates no session', async () => {
    const app = demoApp();
    const failing: McpApplication = {
      ...app,
      async handle(request, context) {
        if (request.method === 'initialize') return { jsonrpc: '2.0', id: request.id, error: { code: -32602, message: 'unsupported' } };
        return app.handle(request, context);
      },
    };
    const { url, server } = await start({ application: failing });
    const answer = await send(url, { body: initializeRequest() });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mcp-session-id')).toBeNull();
    expect(await server.sessions.count()).toBe(0);
  });

  it('an application that throws during initialize gets 500 and leaves no session', async () => {
    const app = demoApp();
    const throwing: McpApplication = {
      ...app,
      handle: async () => {
        throw new Error('boom with secret details');
      },
    };
    const { url, server } = await start({ application: throwing });
    const answer = await send(url, { body: initializeRequest() });
    expect(answer.status).toBe(500);
    expect(answer.text).not.toContain('secret details');
    expect(await server.sessions.count()).toBe(0);
  });
});

describe('Origin and CORS (S10)', () => {
  it('DNS rebinding: with allowedHosts, a foreign Host gets 403 even when Origin matches it', async () => {
    const { url } = await start({ allowedHosts: LOCAL_HOSTNAMES });
    const port = new URL(url).port;
    const rebound = await rawPost(url, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }, initializeRequest());
    expect(rebound.status).toBe(403);
    expect(rebound.text).toContain('Host');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await rawPost(url, { host }, initializeRequest())).status).toBe(200);
    }
  });

  it('without allowedHosts a same-host Origin is accepted (a server reached by its public name)', async () => {
    const { url } = await start();
    const answer = await rawPost(url, { host: 'mcp.example.com', origin: 'https://mcp.example.com' }, initializeRequest());
    expect(answer.status).toBe(200);
  });

  it('a foreign Origin gets 403', async () => {
    const { url } = await start();
    const answer = await send(url, { body: initializeRequest(), headers: { origin: 'https://evil.example' } });
    expect(answer.status).toBe(403);
    expect((await send(url, { body: initializeRequest(), headers: { origin: 'null' } })).status).toBe(403);
  });

  it('localhost and same-host Origins are allowed and see MCP-Session-Id exposed', async () => {
    const { url } = await start();
    for (const origin of ['http://localhost:5173', new URL(url).origin]) {
      const answer = await send(url, { body: initializeRequest(), headers: { origin } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('access-control-expose-headers')).toContain('MCP-Session-Id');
    }
  });

  it('a configured list replaces the default', async () => {
    const { url } = await start({ allowedOrigins: ['https://app.example'] });
    expect((await send(url, { body: initializeRequest(), headers: { origin: 'https://app.example' } })).status).toBe(200);
    expect((await send(url, { body: initializeRequest(), headers: { origin: 'http://localhost:3000' } })).status).toBe(403);
  });

  it('a CORS preflight gets 204 with the MCP headers allowed; a foreign one 403', async () => {
    const { url } = await start();
    const ok = await send(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, mcp-session-id',
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(ok.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
    const bad = await send(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.status).toBe(403);
  });
});

describe('streams (S6, S7, S12)', () => {
  it('a request whose application streams gets text/event-stream with progress before the result', async () => {
    const { url } = await start();
    const id = await openSession(url);
    const body = {
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 50 }, _meta: { progressToken: 'p' } },
    };
    const answer = await send(url, { body, headers: { 'mcp-session-id': id } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream');
    const messages = sseMessages(answer.text) as { method?: string; id?: number }[];
    expect(messages.filter((m) => m.method === 'notifications/progress')).toHaveLength(5);
    expect(messages.at(-1)).toMatchObject({ id: 5, result: { content: [{ text: 'waited 50 ms' }] } });
  });

  it('GET opens the session stream (200 text/event-stream); a second concurrent GET gets 409', async () => {
    const { url } = await start();
    const id = await openSession(url);
    const controller = new AbortController();
    const first = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': id }, signal: controller.signal });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    const second = await send(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': id } });
    expect(second.status).toBe(409);
    controller.abort();
  });

  it('DELETE closes the session GET stream', async () => {
    const { url } = await start();
    const id = await openSession(url);
    const stream = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': id } });
    const ended = stream.text();
    expect((await send(url, { method: 'DELETE', headers: { 'mcp-session-id': id } })).status).toBe(204);
    // Ends with nothing but its priming event (S11, 2025-11-25).
    expect(sseMessages(await ended)).toEqual([]);
  });

  it('GET without text/event-stream in Accept gets 406; without a session id 400 (405 naming no era); unknown id 404', async () => {
    const { url } = await start();
    const id = await openSession(url);
    expect((await send(url, { method: 'GET', headers: { accept: 'application/json', 'mcp-session-id': id } })).status).toBe(406);
    const handshake = { accept: 'text/event-stream', 'mcp-protocol-version': '2025-11-25' };
    expect((await send(url, { method: 'GET', headers: handshake })).status).toBe(400);
    // No session and no handshake-era version: 2026-07-28 Backward Compatibility says 405.
    const bare = await send(url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect([bare.status, bare.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await send(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'C'.repeat(32) } })).status).toBe(
      404,
    );
  });

  it('GET streams what the application sends with the port (toStream), with no stream source of its own (S6)', async () => {
    const { openStream: _none, ...base } = demoApp();
    const listChanged = { jsonrpc: '2.0' as const, method: 'notifications/tools/list_changed' };
    const application: McpApplication = {
      ...base,
      async handle(request, context) {
        if (request.method !== 'tools/call' || request.params?.['name'] !== 'announce') return base.handle(request, context);
        const heard = await context.session!.port.toStream(context.session!.id, listChanged);
        return { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: String(heard) }] } };
      },
    };
    const { url } = await start({ application });
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const announce = async (): Promise<unknown> => (await send(url, { body: toolCall('announce', {}), headers })).json;
    // No GET stream open: nobody heard it yet; it waits for the first stream the session opens.
    await expect(announce()).resolves.toMatchObject({ result: { content: [{ text: 'false' }] } });
    const stream = await openGetStream(url, headers);
    expect(stream.status).toBe(200);
    expect(await stream.next()).toEqual(listChanged);
    expect(await announce()).toMatchObject({ result: { content: [{ text: 'true' }] } });
    expect(await stream.next()).toEqual(listChanged);
    // DELETE ends the stream.
    expect((await send(url, { method: 'DELETE', headers })).status).toBe(204);
    await stream.ended;
  });
});

describe('2026-07-28 sessionless requests', () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

  it('are passed to the application without a session and never get one', async () => {
    const { url, server } = await start();
    const answer = await send(url, {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'now' }, _meta: meta } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-session-id': 'A'.repeat(32) },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mcp-session-id')).toBeNull();
    expect(answer.json).toMatchObject({ result: { content: [{ text: 'now' }] } });
    expect(await server.sessions.count()).toBe(0);
  });

  it('a header that does not match _meta gets 400 with -32020', async () => {
    const { url } = await start();
    for (const headers of [{ 'mcp-protocol-version': '2025-11-25' }, {}] as Record<string, string>[]) {
      const answer = await send(url, { body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }, headers });
      expect(answer.status).toBe(400);
      expect(rpcError(answer.json).code).toBe(-32020);
    }
  });

  /** A sessionless POST with the headers a conforming client sends, overridable per case. */
  function sessionless(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
    return send(url, {
      body: { jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: meta } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...headers },
    });
  }

  it('routing headers must match the body: Mcp-Method and Mcp-Name (400, -32020)', async () => {
    const { url } = await start();
    const call = { name: 'echo', arguments: { text: 'x' } };
    const rejected: [string, Record<string, unknown>, Record<string, string>][] = [
      ['tools/list', {}, { 'mcp-method': 'prompts/list' }],
      ['tools/list', {}, { 'mcp-method': 'TOOLS/LIST' }], // values are case-sensitive
      ['tools/call', call, { 'mcp-name': 'other' }],
      ['tools/call', call, {}], // Mcp-Name missing while the body has a name
      ['tools/call', call, { 'mcp-name': '=?base64?ZWNobw?=' }], // bad padding
      ['tools/call', call, { 'mcp-name': '=?base64?ZW!!obw==?=' }], // not Base64
    ];
    for (const [method, params, headers] of rejected) {
      const answer = await sessionless(url, method, params, headers);
      expect([answer.status, rpcError(answer.json).code], JSON.stringify(headers)).toEqual([400, -32020]);
      expect((answer.json as { id: unknown }).id).toBe(7);
    }
    const missing = await send(url, {
      body: { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta } },
      headers: { 'mcp-protocol-version': '2026-07-28' },
    });
    expect([missing.status, rpcError(missing.json).code]).toEqual([400, -32020]);
    // Accepted: surrounding whitespace (RFC 9110 5.5), the Base64 form, any header-name case.
    for (const headers of [{ 'mcp-name': '  echo  ' }, { 'mcp-name': '=?base64?ZWNobw==?=' }, { 'MCP-NAME': 'echo' }] as Record<
      string,
      string
    >[]) {
      const answer = await sessionless(url, 'tools/call', call, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(200);
    }
  });

  it('bad _meta gets the spec errors: missing keys -32602, unsupported version -32022, both 400', async () => {
    const { url } = await start();
    const incomplete = await send(url, {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    });
    expect([incomplete.status, rpcError(incomplete.json).code]).toEqual([400, -32602]);
    expect(rpcError(incomplete.json).message).toContain('clientCapabilities');
    const future = { ...meta, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' };
    const unsupported = await send(url, {
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: future } },
      headers: { 'mcp-protocol-version': 'v999.0.0', 'mcp-method': 'tools/list' },
    });
    expect(unsupported.status).toBe(400);
    expect(unsupported.json).toMatchObject({ id: 2, error: { code: -32022, data: { requested: 'v999.0.0' } } });
    expect((unsupported.json as { error: { data: { supported: string[] } } }).error.data.supported).toContain('2026-07-28');
    // A sessionless version header on a body without sessionless _meta: -32602 names what is missing.
    const headerOnly = await send(url, {
      body: { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    });
    expect([headerOnly.status, rpcError(headerOnly.json).code]).toEqual([400, -32602]);
  });

  it('methods 2026-07-28 removed, and methods the application does not know, are 404 with -32601', async () => {
    const { url, server } = await start();
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'unknown/method']) {
      const answer = await sessionless(url, method, {});
      expect([answer.status, rpcError(answer.json).code], method).toEqual([404, -32601]);
    }
    expect(await server.sessions.count()).toBe(0);
  });

  it('GET and DELETE with the 2026-07-28 header get 405', async () => {
    const { url } = await start();
    for (const method of ['GET', 'DELETE']) {
      expect((await send(url, { method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } })).status).toBe(
        405,
      );
    }
  });
});
