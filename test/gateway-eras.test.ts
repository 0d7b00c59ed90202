/**
 * Both protocol eras through one gateway, over real sockets: all four pairings of a
 * handshake-era or sessionless (2026-07-28) client with a handshake-era upstream (the official
 * SDK McpServer) or a sessionless one (test/helpers/sessionless-upstream.ts, written from the
 * spec's pages). Digest sections 4 and 5.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type EraRouterOptions, eraRouter } from '../src/gateway/eras/era-router.js';
import { httpUpstream } from '../src/gateway/upstreams/http/http-upstream.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { startGateway } from './helpers/in-process-gateway.js';
import { readJsonLines } from './helpers/json-lines.js';
import { ACCEPT_BOTH, send, sseMessages } from './helpers/mcp-http.js';
import { isAlive } from './helpers/processes.js';
import { PATIENT, startRedis } from './helpers/redis.js';
import { RedisStore } from '../src/store/redis/index.js';
import { audited } from '../src/gateway/ops/audit.js';
import { type AuditEvent } from '../src/gateway/audit-events.js';
import { fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { startSessionlessUpstream, type SessionlessUpstream } from './helpers/sessionless-upstream.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'sessionless-test', version: '1.0.0' },
};

/** A 2026-07-28 POST with the headers a conforming client sends (Request Metadata). */
function sessionless(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  id: number | string = 1,
) {
  const name = (params['name'] ?? params['uri']) as string | undefined;
  return send(url, {
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...META, ...(params['_meta'] as object) } } },
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
      ...headers,
    },
  });
}

function result(json: unknown): Record<string, unknown> {
  const answer = json as { result?: Record<string, unknown>; error?: unknown };
  if (!answer.result) throw new Error(`expected a result, got ${JSON.stringify(json)}`);
  return answer.result;
}

function text(value: unknown): string {
  return (value as { content: { text: string }[] }).content[0]!.text;
}

async function handshakeUpstream(tally: Tally): Promise<RunningServer> {
  const server = await startServer({ application: bindMcpServer((session) => fixtureServer(session, tally)) });
  closers.push(() => server.close());
  return server;
}

async function sessionlessUpstream(): Promise<SessionlessUpstream> {
  const upstream = await startSessionlessUpstream();
  closers.push(() => upstream.close());
  return upstream;
}

async function gateway(url: string, options: Partial<EraRouterOptions> = {}, server: Parameters<typeof startServer>[0] = {}) {
  const router = eraRouter({ handshake: httpUpstream({ url }), url, ...options });
  const running = await startServer({ application: router, ...server });
  closers.push(() => running.close());
  return { ...running, router };
}

/** Reads an SSE response body as it arrives (a listen stream stays open). */
async function openSse(url: string, body: unknown, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  const messages: Record<string, unknown>[] = [];
  let buffer = '';
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const events = buffer.split('\n\n');
        buffer = events.pop()!;
        for (const event of events) messages.push(...(sseMessages(event + '\n\n') as Record<string, unknown>[]));
      }
    } catch {
      // aborted
    }
  })();
  closers.push(async () => {
    abort.abort();
    await reading;
  });
  return {
    status: response.status,
    messages,
    async until(predicate: (message: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`not seen in ${ms} ms: ${JSON.stringify(messages)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

describe('era detection', () => {
  it('probes the upstream once: the SDK McpServer is handshake-era, the fixture sessionless', async () => {
    const sdk = await handshakeUpstream({ created: 0, closed: 0 });
    const fixture = await sessionlessUpstream();
    expect(await (await gateway(sdk.url)).router.era()).toBe('handshake');
    const toFixture = await gateway(fixture.url);
    expect(await toFixture.router.era()).toBe('sessionless');
    await toFixture.router.era();
    expect(fixture.received.filter((r) => r.body.method === 'server/discover')).toHaveLength(1);
  });
});

describe('sessionless client -> handshake-era upstream (conversations)', () => {
  it('answers with no session minted, in the 2026 shape, and discover from the upstream initialize', async () => {
    const tally = { created: 0, closed: 0 };
    const { url } = await gateway((await handshakeUpstream(tally)).url);
    const call = await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(call.status).toBe(200);
    expect(call.headers.get('mcp-session-id')).toBeNull();
    expect(result(call.json)).toMatchObject({
      resultType: 'complete',
      content: [{ text: 'hi' }],
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'fixture' } },
    });
    const discover = result((await sessionless(url, 'server/discover')).json);
    expect(discover).toMatchObject({ capabilities: { tools: { listChanged: true } }, resultType: 'complete' });
    expect(discover['supportedVersions']).toContain('2026-07-28');
    const list = result((await sessionless(url, 'tools/list')).json);
    expect(list).toMatchObject({ ttlMs: 0, cacheScope: 'private' });
    // The 2026 _meta keys were translated, not leaked: the upstream saw an initialize instead.
    const who = JSON.parse(text(result((await sessionless(url, 'tools/call', { name: 'who', arguments: {} })).json))) as Record<
      string,
      unknown
    >;
    expect(who['client']).toMatchObject({ name: 'sessionless-test' });
    expect(tally.created).toBe(1);
  });

  it('ten parallel first calls with one correlation id make one upstream session; ten ids make ten', async () => {
    const tally = { created: 0, closed: 0 };
    const { url } = await gateway((await handshakeUpstream(tally)).url);
    const call = (id: string, n: number) =>
      sessionless(url, 'tools/call', { name: 'echo', arguments: { text: `${n}` } }, { 'mcp-client-session-id': id }, n);
    const shared = await Promise.all(Array.from({ length: 10 }, (_, n) => call('9b2c1c62-2a9f-4d5e-9a0e-000000000001', n)));
    expect(shared.map((answer) => text(result(answer.json)))).toEqual(Array.from({ length: 10 }, (_, n) => `${n}`));
    expect(tally.created).toBe(1);
    const separate = await Promise.all(Array.from({ length: 10 }, (_, n) => call(`9b2c1c62-2a9f-4d5e-9a0e-1000000000${10 + n}`, n)));
    expect(separate.every((answer) => answer.status === 200)).toBe(true);
    expect(tally.created).toBe(11);
    // _meta.clientSessionId is the same key as the header (SEP-2822).
    await sessionless(url, 'tools/call', {
      name: 'echo',
      arguments: { text: 'x' },
      _meta: { clientSessionId: '9b2c1c62-2a9f-4d5e-9a0e-000000000001' },
    });
    expect(tally.created).toBe(11);
  });

  it('holds the client to Mcp-Param-* for annotated tools, listing them first if it must (SEP-2243)', async () => {
    const { url } = await gateway((await handshakeUpstream({ created: 0, closed: 0 })).url);
    // No tools/list went through yet: the gateway lists the upstream's tools itself.
    const missing = await sessionless(url, 'tools/call', { name: 'region', arguments: { region: 'eu' } });
    expect([missing.status, (missing.json as { error: { code: number } }).error.code]).toEqual([400, -32020]);
    for (const header of ['us', '=?base64?ZXU?=', '=?base64?Z!!V1?=']) {
      const bad = await sessionless(url, 'tools/call', { name: 'region', arguments: { region: 'eu' } }, { 'mcp-param-region': header });
      expect([bad.status, (bad.json as { error: { code: number } }).error.code], header).toEqual([400, -32020]);
    }
    for (const header of ['eu', ' eu ', '=?base64?ZXU=?=']) {
      const good = await sessionless(url, 'tools/call', { name: 'region', arguments: { region: 'eu' } }, { 'mcp-param-region': header });
      expect(text(result(good.json)), header).toBe('region eu');
    }
    // Tools without annotations need no such header.
    expect((await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: 'x' } })).status).toBe(200);
  });

  it('the same correlation id under two credentials is two conversations (identity binding)', async () => {
    const tally = { created: 0, closed: 0 };
    const upstream = await handshakeUpstream(tally);
    const { url } = await gateway(upstream.url, {}, { authenticate: (request) => request.header('authorization') });
    const id = 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9';
    const count = async (credential: string) =>
      text(
        result(
          (
            await sessionless(
              url,
              'tools/call',
              { name: 'count', arguments: {} },
              { 'mcp-client-session-id': id, authorization: credential },
            )
          ).json,
        ),
      );
    expect([await count('Bearer alice'), await count('Bearer alice'), await count('Bearer mallory')]).toEqual(['1', '2', '1']);
    expect(tally.created).toBe(2);
  });

  it('two replicas on one real Redis: parallel first calls of one conversation make one upstream session', async () => {
    const redis = await startRedis();
    closers.push(() => redis.stop());
    const tally = { created: 0, closed: 0 };
    const upstream = await handshakeUpstream(tally);
    const stores = [0, 1].map(() => new RedisStore({ ...PATIENT, url: redis.url, prefix: 'eras:' }));
    for (const store of stores) closers.push(() => store.close());
    const replicas = await Promise.all(stores.map((store) => gateway(upstream.url, {}, { store })));
    const id = '3d1f0c2e-8b7a-4c69-a5d4-e3f2a1b0c9d8';
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        sessionless(replicas[n % 2]!.url, 'tools/call', { name: 'echo', arguments: { text: `${n}` } }, { 'mcp-client-session-id': id }, n),
      ),
    );
    expect(answers.map((answer) => text(result(answer.json)))).toEqual(Array.from({ length: 10 }, (_, n) => `${n}`));
    expect(tally.created).toBe(1);
    // Either replica continues it afterwards, on the same upstream session.
    const count = async (url: string) =>
      text(result((await sessionless(url, 'tools/call', { name: 'count', arguments: {} }, { 'mcp-client-session-id': id })).json));
    expect([await count(replicas[0]!.url), await count(replicas[1]!.url), await count(replicas[0]!.url)]).toEqual(['1', '2', '3']);
    expect(tally.created).toBe(1);
  });

  it('progress streams through; log messages only at the level _meta asks for', async () => {
    const { url } = await gateway((await handshakeUpstream({ created: 0, closed: 0 })).url);
    const progress = await sessionless(url, 'tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 'p' } });
    const frames = sseMessages(progress.text) as Record<string, unknown>[];
    expect(frames.filter((m) => m['method'] === 'notifications/progress')).toHaveLength(3);
    expect(result(frames.at(-1))).toMatchObject({ resultType: 'complete', content: [{ text: 'done' }] });
    const silent = await sessionless(url, 'tools/call', { name: 'log', arguments: {} });
    expect(JSON.stringify(silent.text)).not.toContain('careful');
    const heard = await sessionless(url, 'tools/call', {
      name: 'log',
      arguments: {},
      _meta: { 'io.modelcontextprotocol/logLevel': 'info' },
    });
    expect(heard.text).toContain('careful');
    const tooLow = await sessionless(url, 'tools/call', {
      name: 'log',
      arguments: {},
      _meta: { 'io.modelcontextprotocol/logLevel': 'error' },
    });
    expect(tooLow.text).not.toContain('careful');
  });

  it('subscriptions/listen: acknowledged first, then only the change notifications asked for', async () => {
    const { url } = await gateway((await handshakeUpstream({ created: 0, closed: 0 })).url);
    const listen = await openSse(
      url,
      {
        jsonrpc: '2.0',
        id: 'sub-1',
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true, promptsListChanged: true }, _meta: META },
      },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
    );
    expect(listen.status).toBe(200);
    const ack = await listen.until(() => true);
    // The fixture offers tools.listChanged but no prompts: only the first is agreed.
    expect(ack).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { toolsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' } },
    });
    expect((ack['params'] as { notifications: object }).notifications).not.toHaveProperty('promptsListChanged');
    await sessionless(url, 'tools/call', { name: 'grow', arguments: {} });
    const changed = await listen.until((m) => m['method'] === 'notifications/tools/list_changed');
    expect(changed).toMatchObject({ params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' } } });
  });

  it('conversations expire on idle like sessions, and their upstream sessions are ended', async () => {
    const tally = { created: 0, closed: 0 };
    const { url, server } = await gateway((await handshakeUpstream(tally)).url, {}, { idleTimeoutMs: 300, sweepIntervalMs: 50 });
    await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: 'a' } }, { 'mcp-client-session-id': 'c-1' });
    expect([tally.created, await server.sessions.count()]).toEqual([1, 1]);
    const deadline = Date.now() + 5000;
    while (tally.closed < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect([tally.closed, await server.sessions.count()]).toEqual([1, 0]);
    // The next request of that conversation starts a new upstream session, transparently.
    const again = await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: 'b' } }, { 'mcp-client-session-id': 'c-1' });
    expect(text(result(again.json))).toBe('b');
    expect(tally.created).toBe(2);
  });

  it("'request' policy: no correlation id, one upstream session per request, ended after it", async () => {
    const tally = { created: 0, closed: 0 };
    const { url, server } = await gateway((await handshakeUpstream(tally)).url, { withoutCorrelationId: 'request' });
    for (const n of [1, 2])
      expect(text(result((await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: `${n}` } })).json))).toBe(`${n}`);
    expect(tally.created).toBe(2);
    const deadline = Date.now() + 5000;
    while (tally.closed < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect([tally.closed, await server.sessions.count()]).toEqual([2, 0]);
  });

  it('bad requests get the spec statuses and never reach the upstream', async () => {
    const tally = { created: 0, closed: 0 };
    const { url } = await gateway((await handshakeUpstream(tally)).url);
    const mismatch = await sessionless(url, 'tools/list', {}, { 'mcp-method': 'tools/call' });
    expect([mismatch.status, (mismatch.json as { error: { code: number } }).error.code]).toEqual([400, -32020]);
    const noCaps = await send(url, {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    });
    expect([noCaps.status, (noCaps.json as { error: { code: number } }).error.code]).toEqual([400, -32602]);
    const future = await send(url, {
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      headers: { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
    });
    expect([future.status, (future.json as { error: { code: number } }).error.code]).toEqual([400, -32022]);
    const removed = await sessionless(url, 'ping');
    expect([removed.status, (removed.json as { error: { code: number } }).error.code]).toEqual([404, -32601]);
    const unknown = await sessionless(url, 'nope/nothing');
    expect([unknown.status, (unknown.json as { error: { code: number } }).error.code]).toEqual([404, -32601]);
    expect(tally.created).toBe(1); // only the unknown method needed the upstream to say so
  });
});

describe('sessionless client -> sessionless upstream (forwarded as is)', () => {
  it('forwards body, routing headers and the correlation id; checks Mcp-Param-* once tools are known', async () => {
    const fixture = await sessionlessUpstream();
    const events: AuditEvent[] = [];
    const router = eraRouter({ handshake: httpUpstream({ url: fixture.url }), url: fixture.url });
    const running = await startServer({ application: audited(router, { write: (event) => void events.push(event) }) });
    closers.push(() => running.close());
    const { url } = running;
    const id = '5f0c7d1e-0b8b-4a58-9a32-1b6f0d6a0c11';
    const echo = await sessionless(url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, { 'mcp-client-session-id': id });
    expect(echo.status).toBe(200);
    expect(echo.headers.get('mcp-session-id')).toBeNull();
    const seen = fixture.received.at(-1)!;
    expect(seen.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-client-session-id': id });
    expect(seen.body.params?.['_meta']).toEqual(META);
    expect(result((await sessionless(url, 'tools/list')).json)['tools']).toHaveLength(7); // as is, nothing filtered
    const good = await sessionless(
      url,
      'tools/call',
      { name: 'region_echo', arguments: { region: 'eu', text: 't' } },
      { 'mcp-param-region': 'eu' },
    );
    expect(text(result(good.json))).toBe('eu:t');
    const before = fixture.received.length;
    for (const headers of [{ 'mcp-param-region': 'us' }, {}, { 'mcp-param-region': '=?base64?ZXU?=' }] as Record<string, string>[]) {
      const bad = await sessionless(url, 'tools/call', { name: 'region_echo', arguments: { region: 'eu', text: 't' } }, headers);
      expect([bad.status, (bad.json as { error: { code: number } }).error.code], JSON.stringify(headers)).toEqual([400, -32020]);
    }
    expect(fixture.received.length).toBe(before); // refused at the gateway
    const encoded = await sessionless(
      url,
      'tools/call',
      { name: 'region_echo', arguments: { region: 'eu', text: 't' } },
      { 'mcp-param-region': '=?base64?ZXU=?=' },
    );
    expect(encoded.status).toBe(200);
    // The upstream's own errors keep their meaning (and status).
    const unknown = await sessionless(url, 'nope/nothing');
    expect([unknown.status, (unknown.json as { error: { code: number } }).error.code]).toEqual([404, -32601]);
    expect(fixture.received.some((r) => r.headers['mcp-session-id'] !== undefined)).toBe(false);
    // Audited with its correlation id, and no session.
    expect(events[0]).toMatchObject({
      event: 'request',
      session: null,
      clientSessionId: id,
      method: 'tools/call',
      name: 'echo',
      outcome: 'result',
    });
  });

  it('streams progress and a listen stream through', async () => {
    const fixture = await sessionlessUpstream();
    const { url } = await gateway(fixture.url);
    const progress = await sessionless(url, 'tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 7 } });
    expect((sseMessages(progress.text) as Record<string, unknown>[]).filter((m) => m['method'] === 'notifications/progress')).toHaveLength(
      3,
    );
    const listen = await openSse(
      url,
      { jsonrpc: '2.0', id: 'l', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: META } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
    );
    await listen.until((m) => m['method'] === 'notifications/subscriptions/acknowledged');
    await sessionless(url, 'tools/call', { name: 'grow', arguments: {} });
    await listen.until((m) => m['method'] === 'notifications/tools/list_changed');
  });
});

describe('handshake-era client (official SDK) -> sessionless upstream (bridged)', () => {
  it('connects, lists, calls with Mcp-Param headers, gets progress, elicitation, logs and list_changed, and ends', async () => {
    const fixture = await sessionlessUpstream();
    const { url, server } = await gateway(fixture.url);
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: 'legacy', version: '2.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (note) => void logs.push(String(note.params.data)));
    const listChanged = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await client.connect(transport);
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(client.getServerVersion()).toMatchObject({ name: 'sessionless-fixture' });
    expect(client.getInstructions()).toBe('A 2026-07-28 fixture.');

    const { tools } = await client.listTools();
    // The tool with an invalid x-mcp-header annotation is left out, as a client must.
    expect(tools.map((tool) => tool.name)).not.toContain('bad_header');
    expect(tools.map((tool) => tool.name)).toContain('region_echo');
    expect(text(await client.callTool({ name: 'region_echo', arguments: { region: 'ap', text: 'x' } }))).toBe('ap:x');
    const call = fixture.received.find((r) => r.body.params?.['name'] === 'region_echo')!;
    expect(call.headers).toMatchObject({ 'mcp-param-region': 'ap', 'mcp-protocol-version': '2026-07-28' });
    // The session's stored client capabilities and info travel in every request's _meta.
    expect(call.body.params?.['_meta']).toMatchObject({
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
      'io.modelcontextprotocol/clientInfo': { name: 'legacy', version: '2.0.0' },
    });

    const seen: number[] = [];
    await client.callTool({ name: 'progress', arguments: {} }, undefined, { onprogress: (p) => void seen.push(p.progress) });
    expect(seen).toEqual([1, 2, 3]);

    // MRTR upstream, a server-to-client elicitation downstream, and back.
    expect(text(await client.callTool({ name: 'ask', arguments: {} }))).toBe('hello Ada');

    await client.callTool({ name: 'log', arguments: {} });
    expect(logs).toEqual([]); // no level set: the upstream sends none
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'log', arguments: {} });
    expect(logs).toEqual(['careful']);

    // The GET stream is fed by subscriptions/listen upstream.
    const deadline = Date.now() + 5000;
    while (!fixture.received.some((r) => r.body.method === 'subscriptions/listen') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.callTool({ name: 'grow', arguments: {} });
    await listChanged;

    expect(await client.ping()).toEqual({});
    await transport.terminateSession();
    expect(await server.sessions.count()).toBe(0);
    await client.close();
    expect(fixture.received.some((r) => r.headers['mcp-session-id'] !== undefined)).toBe(false);
    expect(fixture.received.some((r) => ['initialize', 'ping', 'logging/setLevel'].includes(r.body.method!))).toBe(false);
  });

  it('an upstream that refuses discovery refuses the initialize too: no session is left', async () => {
    const fixture = await sessionlessUpstream();
    const { url, server } = await gateway(fixture.url, { era: 'sessionless', upstreamHeaders: {} });
    await fixture.close();
    const answer = await send(url, {
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      },
    });
    expect(answer.status).toBe(200);
    expect((answer.json as { error: { message: string } }).error.message).toMatch(/Upstream error/);
    expect(answer.headers.get('mcp-session-id')).toBeNull();
    expect(await server.sessions.count()).toBe(0);
  });
});

describe('the sessiongate command, sessionless clients, a stdio upstream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-eras-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const STDIO_FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));

  it('one child per conversation, the correlation id in every audit event and child log line, none left after', async () => {
    const audit = join(dir, 'audit.jsonl');
    const gateway = await startGateway([
      '--port',
      '0',
      '--store',
      'memory',
      '--spares',
      '0',
      '--audit',
      audit,
      '--stdio',
      `${process.execPath} ${STDIO_FIXTURE}`,
    ]);
    closers.push(() => gateway.kill());
    const [a, b] = ['0e0f6f7a-1b2c-4d3e-8f90-a1b2c3d4e5f6', '7c6b5a49-3827-4165-9e8d-7f6e5d4c3b2a'];
    const call = async (id: string, tool: string) =>
      text(result((await sessionless(gateway.url, 'tools/call', { name: tool, arguments: {} }, { 'mcp-client-session-id': id })).json));
    const [pidA, pidA2, pidB] = [await call(a, 'whoami'), await call(a, 'whoami'), await call(b, 'whoami')];
    expect(pidA).toBe(pidA2);
    expect(pidB).not.toBe(pidA);
    // Per-conversation state lives in the conversation's child.
    expect([await call(a, 'count'), await call(a, 'count'), await call(b, 'count')]).toEqual(['1', '2', '1']);
    expect(gateway.output()).toMatch(new RegExp(`\\[[0-9a-f]{8} ${a}\\] stdio fixture ${pidA} up`));

    expect(await gateway.kill()).toBe(0);
    for (const pid of [pidA, pidB]) expect(isAlive(Number(pid))).toBe(false);
    const lines = readJsonLines<Record<string, unknown>>(audit);
    const requests = lines.filter((line) => line['event'] === 'request');
    expect(requests).toHaveLength(6);
    expect(requests.every((line) => line['clientSessionId'] === a || line['clientSessionId'] === b)).toBe(true);
    for (const id of [a, b]) {
      expect(lines.filter((line) => line['event'] === 'session.created' && line['clientSessionId'] === id)).toHaveLength(1);
      expect(lines.filter((line) => line['event'] === 'session.ended' && line['clientSessionId'] === id)).toMatchObject([
        { reason: 'shutdown' },
      ]);
    }
  });

  it('refuses --upstream-era sessionless for a stdio server, with a one-line reason', async () => {
    const { runCli } = await import('./helpers/demo-process.js');
    const run = await runCli(['--port', '0', '--upstream-era', 'sessionless', '--stdio', 'node x.js']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--upstream-era sessionless needs an HTTP --upstream/);
    const bad = await runCli(['--port', '0', '--upstream-era', 'nope', '--stdio', 'node x.js']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/upstream-era/);
  });
});
