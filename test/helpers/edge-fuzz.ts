/**
 * Fuzzing the gateway's HTTP edge over a real socket (issue "abuse"): generated methods,
 * headers, ids and bodies against a running gateway. For every request: an answer within a
 * deadline, never a 5xx, and the process alive afterwards. Shared by the default suite (a fixed
 * seed and a small budget) and the soak script (more runs).
 */
import fc from 'fast-check';
import { request } from 'node:http';

export interface EdgeRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const LIVE = 'LIVE-SESSION';
const VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '1999-01-01', ''];
const METHODS = ['initialize', 'ping', 'tools/list', 'tools/call', 'resources/read', 'notifications/initialized', 'server/discover'];

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 200 });
const id = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constant(null),
  fc.constant(2 ** 60),
  fc.object({ maxDepth: 1 }),
);
const deep = fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown);
const params = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    protocolVersion: fc.constantFrom(...VERSIONS),
    capabilities: fc.jsonValue({ maxDepth: 2 }),
    clientInfo: fc.record({ name: printable, version: printable }),
    _meta: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ progressToken: fc.oneof(fc.string(), fc.double(), fc.object()) })),
  }),
  fc.record({ name: fc.constantFrom('echo', 'add', '', 'x'.repeat(300)), arguments: fc.jsonValue({ maxDepth: 3 }) }),
  deep.map((value) => ({ value })),
);
const message = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), printable),
    id,
    method: fc.oneof(fc.constantFrom(...METHODS), printable),
    params,
    result: fc.jsonValue({ maxDepth: 2 }),
    error: fc.record({ code: fc.oneof(fc.integer(), fc.double()), message: printable }),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  message.map((value) => JSON.stringify(value)),
  fc.array(message, { maxLength: 4 }).map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  printable,
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);
const headers = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/jsonx', ''),
    accept: fc.constantFrom('application/json, text/event-stream', 'text/event-stream', 'application/json', '*/*', 'text/html'),
    // LIVE stands for a live session's id (sendEdge puts it in), so requests reach past the gate.
    'mcp-session-id': fc.oneof(printable, fc.constant('A'.repeat(32)), fc.constant(LIVE), fc.constant(LIVE)),
    'mcp-protocol-version': fc.oneof(fc.constantFrom(...VERSIONS), printable),
    'mcp-client-session-id': printable,
    'mcp-method': fc.oneof(fc.constantFrom(...METHODS), printable),
    'mcp-name': printable,
    'last-event-id': printable,
    origin: fc.constantFrom('http://localhost', 'https://evil.example', 'null'),
    authorization: printable,
  },
  { requiredKeys: [] },
);

export const edgeRequests: fc.Arbitrary<EdgeRequest> = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'OPTIONS'),
  headers,
  body: fc.option(body, { nil: undefined }),
});

/** Sends one generated request (with `liveSession` for LIVE); resolves with its status, or rejects past `deadlineMs`. */
export function sendEdge(url: string, edge: EdgeRequest, deadlineMs: number, liveSession: string): Promise<number> {
  const target = new URL(url);
  const headers = edge.headers['mcp-session-id'] === LIVE ? { ...edge.headers, 'mcp-session-id': liveSession } : edge.headers;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      outgoing.destroy();
      reject(new Error(`no answer within ${deadlineMs} ms to ${JSON.stringify(edge).slice(0, 500)}`));
    }, deadlineMs);
    const outgoing = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: edge.method, headers },
      (response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        // An SSE answer (a GET stream) may stay open: the status is what is checked.
        response.destroy();
        resolve(status);
      },
    );
    outgoing.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    outgoing.end(edge.body);
  });
}
