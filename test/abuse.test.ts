/**
 * What one anonymous client must not be able to do to everyone else (issue "abuse"): messages
 * an MCP SDK drops without answering, client text the gateway cannot carry, and inputs that
 * answered 500. Against the gateway in front of the reference server-everything over HTTP (a
 * real SDK server behind), over real sockets; each case failed before its fix (a hang or a 5xx).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startEverythingHttp, type EverythingHttp } from './helpers/everything.js';
import { openSession, send, initializeRequest } from './helpers/mcp-http.js';

const ADMIN_TOKEN = 'abuse-test-admin-token';
let upstream: EverythingHttp;
let gateway: DemoProcess;
let headers: Record<string, string>;

beforeAll(async () => {
  upstream = await startEverythingHttp();
  gateway = await startCli(['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--admin-token', ADMIN_TOKEN]);
  headers = { 'mcp-session-id': await openSession(gateway.url), 'mcp-protocol-version': '2025-11-25' };
});
afterAll(async () => {
  await gateway?.kill('SIGKILL');
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

  it('/admin/sessions/% (malformed percent-encoding) is 400', async () => {
    const response = await fetch(gateway.url.replace(/\/mcp$/, '/admin/sessions/%'), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(400);
  });
});
