/**
 * What the gateway checks is what the upstream acts on (docs/SECURITY.md, "What goes upstream
 * is what was checked"): a body whose keys repeat, which JSON parsers read differently (the
 * gateway's keeps the last, others keep the first), reaches the upstream re-serialized from the
 * form the policy decided on, never as the bytes the client sent. In process: the gateway from
 * createGateway, in front of a raw HTTP server that records the bytes it receives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { createGateway, FairSlots, httpUpstream } from '../src/gateway/index.js';
import { compilePolicy } from '../src/policy/index.js';
import { initializeAnswer, scriptedServer, type ScriptedServer, type Seen, type Script } from './helpers/scripted-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function upstreamAnswer(request: Seen): Script {
  if (request.body?.method === 'initialize') return initializeAnswer(request);
  if (request.body?.id === undefined) return { status: 202 };
  const result = { content: [{ type: 'text', text: `ran ${String(request.body.params?.['name'])}` }] };
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    chunks: [JSON.stringify({ jsonrpc: '2.0', id: request.body.id, result })],
  };
}

async function gatewayBefore(upstream: ScriptedServer): Promise<string> {
  const slots = new FairSlots(8);
  const policy = compilePolicy({ default: 'deny', rules: [{ id: 'echo-ok', effect: 'allow', tools: ['echo'] }] });
  const gateway = createGateway({
    upstream: httpUpstream({ url: upstream.url, slots }),
    http: { url: upstream.url, slots },
    store: new MemoryStore(),
    policy: { current: () => policy },
  });
  const { url } = await gateway.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => gateway.close({ graceMs: 500, endSessions: false }));
  return url;
}

async function openSession(url: string): Promise<Record<string, string>> {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  const answer = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(initialize) });
  const headers = { ...HEADERS, 'mcp-session-id': answer.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  await answer.text();
  await (
    await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  ).text();
  return headers;
}

describe('a body whose keys repeat', () => {
  it('reaches the upstream as the form the policy decided on, with each key once', async () => {
    const upstream = await scriptedServer(upstreamAnswer);
    cleanups.push(() => upstream.close());
    const url = await gatewayBefore(upstream);
    const headers = await openSession(url);
    const calls = (): Seen[] => upstream.seen.filter((seen) => seen.body?.method === 'tools/call');

    // "echo" first, "run" last: the gateway reads run (denied), so nothing goes upstream.
    const denied = await fetch(url, {
      method: 'POST',
      headers,
      body: '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{},"name":"run"}}',
    });
    expect(JSON.stringify(await denied.json())).toContain('-31050');
    expect(calls()).toEqual([]);

    // "run" first, "echo" last: the gateway reads echo (allowed); a first-key parser upstream
    // must not be handed "run", so the bytes that go upstream name echo and nothing else.
    const allowed = await fetch(url, {
      method: 'POST',
      headers,
      body: '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"run","arguments":{"cmd":"rm"},"name":"echo","arguments":{}}}',
    });
    expect(await allowed.json()).toMatchObject({ id: 3, result: { content: [{ text: 'ran echo' }] } });
    const [forwarded] = calls();
    expect(forwarded!.text.match(/"name"/g)).toHaveLength(1);
    expect(forwarded!.text).not.toContain('run');
    expect(forwarded!.text).not.toContain('rm');
    expect(JSON.parse(forwarded!.text)).toMatchObject({ params: { name: 'echo', arguments: {} } });
  });
});
