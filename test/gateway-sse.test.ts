/**
 * `--upstream-transport sse`: a server of the deprecated HTTP+SSE transport (the reference
 * server-everything in its `sse` mode, nobody here wrote it) behind the gateway, reached by the
 * official SDK client over Streamable HTTP: tools with progress, a sampling request the server
 * sends mid-call and the client answers, resources; the server restarted mid-session is
 * reached again with the handshake replayed; a session's end closes its stream; a wrong or
 * absent server fails at start-up with the reason.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { type EverythingHttp, freePort, startEverythingHttp } from './helpers/everything.js';
import { initializeRequest, send } from './helpers/mcp-http.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function everythingSse(port?: number): Promise<EverythingHttp> {
  const server = await startEverythingHttp(port, 'sse');
  cleanups.push(() => server.kill());
  return server;
}

async function gatewayTo(url: string): Promise<InProcessGateway> {
  const gateway = await startGateway(['--port', '0', '--store', 'memory', '--upstream', url, '--upstream-transport', 'sse']);
  cleanups.push(() => gateway.kill());
  return gateway;
}

async function client(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const connected = new Client({ name: 'modern-client', version: '1' }, { capabilities: { sampling: {} } });
  connected.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    role: 'assistant',
    model: 'test-model',
    content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
  }));
  await connected.connect(transport);
  cleanups.push(() => connected.close());
  return { client: connected, transport };
}

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content.map((part) => part.text).join('');

describe('an HTTP+SSE upstream (server-everything sse)', () => {
  it('serves tools with progress, a sampling request answered mid-call, and resources to a Streamable HTTP client', async () => {
    const upstream = await everythingSse();
    const gateway = await gatewayTo(upstream.url);
    expect(gateway.output()).toContain('HTTP+SSE, deprecated');
    const { client: connected } = await client(gateway.url);
    const names = (await connected.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation', 'trigger-sampling-request']));
    expect(textOf(await connected.callTool({ name: 'echo', arguments: { message: 'over sse' } }))).toBe('Echo: over sse');
    const progress: Progress[] = [];
    const long = await connected.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
      onprogress: (step) => progress.push(step),
    });
    expect(textOf(long)).toContain('completed');
    expect(progress.map((step) => step.progress)).toEqual([1, 2, 3]);
    const sampled = await connected.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
    expect(textOf(sampled)).toContain('sampled:');
    const resources = await connected.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    const read = await connected.readResource({ uri: resources.resources[0]!.uri });
    expect(read.contents.length).toBe(1);
  });

  it('the server restarted mid-session is reached again with the handshake replayed; a call racing the restart is answered, never left hanging', async () => {
    const port = await freePort();
    const first = await everythingSse(port);
    const gateway = await gatewayTo(first.url);
    const { client: connected } = await client(gateway.url);
    expect(textOf(await connected.callTool({ name: 'echo', arguments: { message: 'before' } }))).toBe('Echo: before');
    await first.kill();
    await everythingSse(port);
    // The first call after the restart may find the old stream not yet known closed: it is answered, never left hanging.
    const after = await connected.callTool({ name: 'echo', arguments: { message: 'after' } }).catch((error: Error) => error);
    if (after instanceof Error) expect(after.message).toMatch(/Upstream error/);
    expect(textOf(await connected.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe('Echo: again');
  });

  it("a session's end closes its event stream on the server", async () => {
    const upstream = await everythingSse();
    let log = '';
    upstream.child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const gateway = await gatewayTo(upstream.url);
    const { client: connected, transport } = await client(gateway.url);
    await connected.callTool({ name: 'echo', arguments: { message: 'x' } });
    expect(log).toContain('Client Connected');
    await transport.terminateSession();
    await expect.poll(() => log, { timeout: 10_000 }).toContain('Client Disconnected');
  });

  it('refuses to start against a Streamable HTTP server or nothing, saying why', async () => {
    const modern = await startEverythingHttp();
    cleanups.push(() => modern.kill());
    const wrong = await runCli(['--port', '0', '--store', 'memory', '--upstream', modern.url, '--upstream-transport', 'sse']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('is not an HTTP+SSE event stream');
    const absent = await runCli([
      '--port',
      '0',
      '--store',
      'memory',
      '--upstream',
      'http://127.0.0.1:9/sse',
      '--upstream-transport',
      'sse',
    ]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain('connection refused to http://127.0.0.1:9/sse');
    const two = await runCli(['--port', '0', '--upstream', 'http://a/sse', '--upstream', 'http://b/sse', '--upstream-transport', 'sse']);
    expect(two.stderr).toContain('--upstream-transport sse takes exactly one --upstream');
  });

  it('an event stream that names an endpoint on another origin is refused: nothing of the session is sent there', async () => {
    // The other origin records whatever reaches it (an upstream token would be the prize).
    const reached: string[] = [];
    const elsewhere = createServer((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      res.writeHead(202).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const away = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/messages`;
    const hostile = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`event: endpoint\ndata: ${away}?sessionId=1\n\n`);
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () => new Promise((resolve) => (elsewhere.closeAllConnections(), elsewhere.close(resolve))),
      () => new Promise((resolve) => (hostile.closeAllConnections(), hostile.close(resolve))),
    );
    const gateway = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/sse`],
      ...['--upstream-transport', 'sse', '--upstream-header', 'Authorization: Bearer upstream-secret'],
    ]);
    cleanups.push(() => gateway.kill());
    const answer = await send(gateway.url, { body: initializeRequest() });
    expect(JSON.stringify(answer.json)).toContain('another origin');
    expect(answer.text).not.toContain(away);
    expect(reached).toEqual([]);
  });
});
