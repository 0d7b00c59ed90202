/**
 * Property tests: random methods, headers, bodies and session ids thrown at the handler. It
 * never throws, never answers 5xx to a client's mistake, and never creates a session from a
 * malformed request.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isStreamBody, type Incoming, type Outgoing } from '../src/server/exchange.js';
import { createSessionServer } from '../src/server/session-server.js';
import { demoApp } from './helpers/test-server.js';

const server = createSessionServer({
  application: demoApp(),
  sweepIntervalMs: 0,
  maxBodyBytes: 4096,
  maxSessions: 1_000_000,
  authenticate: (request) => request.header('authorization'),
});
afterAll(() => server.close());

const live: string[] = [];
const encoder = new TextEncoder();

const validInit = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'p', version: '1' } },
};

const jsonRpcish = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object()),
    method: fc.oneof(fc.constantFrom('initialize', 'tools/call', 'tools/list', 'ping', 'notifications/initialized'), fc.string()),
    params: fc.oneof(
      fc.object(),
      fc.constant(validInit.params),
      fc.json().map((j) => JSON.parse(j) as unknown),
    ),
    result: fc.object(),
    error: fc.oneof(fc.record({ code: fc.integer(), message: fc.string() }), fc.object()),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(JSON.stringify(validInit)),
  jsonRpcish.map((v) => JSON.stringify(v)),
  fc.array(jsonRpcish, { maxLength: 4 }).map((v) => JSON.stringify(v)),
  fc.json(),
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.string({ minLength: 4000, maxLength: 6000 }),
);

const sessionId = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.stringMatching(/^[A-Za-z0-9_-]{32}$/),
  fc.constant('live'), // replaced by a real live id when one exists
);

const randomHeaders = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1', ''),
      fc.string(),
    ),
    accept: fc.oneof(
      fc.constantFrom('application/json, text/event-stream', 'text/event-stream', 'application/json', '*/*', ''),
      fc.string(),
    ),
    'mcp-protocol-version': fc.oneof(fc.constantFrom('2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '2024-11-05'), fc.string()),
    origin: fc.oneof(fc.constantFrom('http://localhost:3000', 'https://evil.example', 'null'), fc.string()),
    authorization: fc.constantFrom('alice', 'bob'),
    'content-length': fc.oneof(fc.nat().map(String), fc.string()),
    'mcp-client-session-id': fc.oneof(fc.uuid(), fc.string()),
  },
  { requiredKeys: [] },
);

/** Mostly-right headers, so the deeper paths (sessions, streams) are reached too. */
const nearlyValidHeaders = fc
  .record(
    {
      authorization: fc.constantFrom('alice', 'bob'),
      'mcp-protocol-version': fc.constantFrom('2025-03-26', '2025-11-25', '2026-07-28', 'x'),
    },
    { requiredKeys: [] },
  )
  .map((extra) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra }));

const headers = fc.oneof({ arbitrary: nearlyValidHeaders, weight: 2 }, { arbitrary: randomHeaders, weight: 3 });

const method = fc.oneof(fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'OPTIONS', 'PUT', 'HEAD'), fc.string());

async function drain(answer: Outgoing, abort: AbortController): Promise<void> {
  if (!isStreamBody(answer.body)) return;
  // GET streams stay open: let the client "leave" before reading.
  setTimeout(() => abort.abort(), 5);
  for await (const _chunk of answer.body) {
    // read everything
  }
}

describe('the handler under random input', () => {
  it('never throws, never answers 5xx, never mints a session from a malformed request', async () => {
    await fc.assert(
      fc.asyncProperty(method, headers, body, sessionId, async (verb, hdrs, text, sid) => {
        const all: Record<string, string> = { ...hdrs };
        const id = sid === 'live' ? live[live.length - 1] : sid;
        if (id !== undefined) all['mcp-session-id'] = id;
        const abort = new AbortController();
        const incoming: Incoming = {
          method: verb,
          header: (name) => all[name],
          headers: () => all,
          readBody: async (limit) => {
            limit.add(encoder.encode(text));
            return limit.bytes();
          },
          signal: abort.signal,
        };
        const before = await server.sessions.count();
        const answer = await server.handle(incoming);
        await drain(answer, abort);
        const after = await server.sessions.count();
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(500);
        const minted = answer.headers['mcp-session-id'];
        if (minted !== undefined) {
          live.push(minted);
          expect(answer.status).toBe(200);
          expect(verb).toBe('POST');
          const parsed = JSON.parse(text) as { method?: unknown };
          expect(parsed.method).toBe('initialize');
        }
        // A DELETE may end one; otherwise only a minted id adds one.
        expect(after - before).toBe(minted !== undefined ? 1 : verb === 'DELETE' ? after - before : 0);
        expect(after - before).toBeLessThanOrEqual(1);
      }),
      { numRuns: 3000 },
    );
    // The generators did reach the interesting paths.
    expect(live.length).toBeGreaterThan(0);
  });

  it('the web-standard handler never throws on random requests either', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'GET', 'DELETE', 'OPTIONS', 'PATCH'), headers, body, async (verb, hdrs, text) => {
        const safe: Record<string, string> = {};
        for (const [name, value] of Object.entries(hdrs))
          if (/^[\t\x20-\x7e]*$/.test(value) && name !== 'content-length') safe[name] = value;
        const abort = new AbortController();
        const request = new Request('http://127.0.0.1/mcp', {
          method: verb,
          headers: safe,
          body: verb === 'POST' ? text : undefined,
          signal: abort.signal,
        });
        const response = await server.fetch(request);
        expect(response.status).toBeLessThan(500);
        setTimeout(() => abort.abort(), 5);
        await response.body?.cancel();
      }),
      { numRuns: 500 },
    );
  });
});
