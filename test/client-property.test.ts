/**
 * Property test: whatever shape the server's answer takes (status, content type, truncated or
 * garbage SSE, wrong ids, dropped connections), a call ends with a result or a typed error,
 * never hangs, and no timer or socket outlives the client.
 */
import fc from 'fast-check';
import { Agent } from 'undici';
import { expect, it } from 'vitest';
import { CLIENT_ERRORS, SessionClient } from '../src/client/index.js';
import { initializeAnswer, scriptedServer, sse, type Script, type Seen } from './helpers/scripted-server.js';

interface Shape {
  status: number;
  contentType: string | undefined;
  body: 'json' | 'json-wrong-id' | 'sse' | 'sse-truncated' | 'sse-no-response' | 'garbage' | 'empty';
  cut: number;
  drop: boolean;
  initOk: boolean;
  stream: boolean;
}

const anyShape = fc.record({
  status: fc.constantFrom(200, 200, 200, 202, 204, 400, 401, 404, 405, 409, 500, 503),
  contentType: fc.constantFrom('application/json', 'text/event-stream', 'application/json; charset=utf-8', 'text/html', undefined),
  body: fc.constantFrom('json', 'json-wrong-id', 'sse', 'sse-truncated', 'sse-no-response', 'garbage', 'empty'),
  cut: fc.nat({ max: 200 }),
  drop: fc.boolean(),
  initOk: fc.boolean(),
  stream: fc.boolean(),
}) as fc.Arbitrary<Shape>;

/** Well-formed answers too, so successes are in the mix and the checks see both outcomes. */
const healthy = fc.record({ sse: fc.boolean(), stream: fc.boolean() }).map(({ sse, stream }): Shape => ({
  status: 200,
  contentType: sse ? 'text/event-stream' : 'application/json',
  body: sse ? 'sse' : 'json',
  cut: 0,
  drop: false,
  initOk: true,
  stream,
}));

const shape = fc.oneof({ arbitrary: healthy, weight: 1 }, { arbitrary: anyShape, weight: 3 });

function answerFor(current: Shape, request: Seen): Script {
  if (request.body?.method === 'initialize' && current.initOk) return initializeAnswer(request);
  if (request.method === 'DELETE') return { status: 204 };
  const id = request.body?.id;
  const response = JSON.stringify({ jsonrpc: '2.0', id, result: { ok: true } });
  const bodies: Record<Shape['body'], string[]> = {
    json: [response],
    'json-wrong-id': [JSON.stringify({ jsonrpc: '2.0', id: 'other', result: {} })],
    sse: sse(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: {} })}`, `data: ${response}`),
    'sse-truncated': [sse(`id: 1\ndata: ${response}`).join('').slice(0, current.cut)],
    'sse-no-response': sse('data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}'),
    garbage: ['\u0000\u00ff not json { ['],
    empty: [],
  };
  return {
    status: current.status,
    headers: current.contentType ? { 'content-type': current.contentType } : {},
    chunks: bodies[current.body],
    drop: current.drop,
  };
}

function count(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

it('every call settles with a result or a typed error, and nothing leaks', async () => {
  let current: Shape | undefined;
  const server = await scriptedServer((request) => answerFor(current!, request));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const before = { timers: count('Timeout'), sockets: count('TCPSocketWrap') };
  const agent = new Agent({ keepAliveTimeout: 1000 });
  const codes = new Set(Object.keys(CLIENT_ERRORS));
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(shape, async (generated) => {
      current = generated;
      const client = new SessionClient(server.url, {
        dispatcher: agent,
        closeTimeoutMs: 200,
        ...(generated.stream ? { onMessage: () => {} } : {}),
      });
      const settle = async (work: Promise<unknown>): Promise<string> => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('HUNG'), 8000)));
        const done = work.then(
          () => 'ok',
          (error: { code?: string }) => (error.code && codes.has(error.code) ? error.code : `untyped: ${String(error)}`),
        );
        const outcome = await Promise.race([done, hung]);
        clearTimeout(timer);
        return outcome;
      };
      const connected = await settle(client.connect({ clientInfo: { name: 'p', version: '1' } }));
      const called = connected === 'ok' ? await settle(client.request('tools/call', { name: 'x' })) : connected;
      await client.close();
      outcomes.set(called, (outcomes.get(called) ?? 0) + 1);
      expect(called).not.toBe('HUNG');
      expect(called).not.toMatch(/^untyped/);
    }),
    { numRuns: 150 },
  );
  await agent.close();
  await server.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(count('Timeout')).toBeLessThanOrEqual(before.timers);
  expect(count('TCPSocketWrap')).toBeLessThanOrEqual(before.sockets);
  // The generator reached both successes and failures.
  expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
  expect(outcomes.size).toBeGreaterThan(2);
});
