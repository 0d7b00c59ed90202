/**
 * Many servers behind one endpoint (docs/FEDERATION.md), over real sockets and processes: two
 * official-SDK HTTP servers (test/fixtures/sdk-stateful-server.mjs, each logging what reaches
 * it and the sessions it opens and closes) and one official-SDK stdio server behind the
 * `sessiongate` command, driven by the official SDK client and by our SessionClientTransport.
 * Each server's own log is the proof of where a call went and of how many upstream sessions
 * it has.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SessionClientTransport } from '../src/client/session-client-transport.js';
import { SessionlessClient } from '../src/client/sessionless-client.js';
import { federatedId, fromClient, serverId, toClient } from '../src/gateway/federation/federated-ids.js';
import { decodeCursor, encodeCursor } from '../src/gateway/federation/merged-cursor.js';
import { ServerNames } from '../src/gateway/federation/names.js';
import type { Member } from '../src/gateway/federation/member.js';
import { mergedInstructions } from '../src/gateway/federation/merged-initialize.js';
import { type DemoProcess, runCli, startCli } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { EVERYTHING_STDIO, freePort } from './helpers/everything.js';
import { readJsonLines } from './helpers/json-lines.js';
import { openSession, postStream, send, toolCall } from './helpers/mcp-http.js';
import { startRedis } from './helpers/redis.js';
import { childrenOf, isAlive, type ServerProcess, startProcess } from './helpers/processes.js';

const STDIO_SERVER = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sessiongate-federation-'));
const running: { kill(): Promise<unknown> }[] = [];
const clients: Client[] = [];

interface LogLine {
  method?: string;
  name?: string | null;
  sessionId?: string | null;
  opened?: string;
  closed?: string;
  client?: string | null;
  pid?: number;
  slowDone?: number;
  scoped?: string;
}

/** An HTTP fixture server of the test's, restartable on its port, with its log. */
interface Upstream {
  port: number;
  log: string;
  process: ServerProcess;
  lines(): LogLine[];
  /** Upstream sessions opened for clients (not the gateway's own probes). */
  sessions(): string[];
}

async function upstream(name: string, extra: string[] = [], port?: number): Promise<Upstream> {
  const chosen = port ?? (await freePort());
  const log = join(dir, `${name}.log`);
  const process = await startProcess('sdk-stateful-server.mjs', [String(chosen), '--log', log, ...extra]);
  running.push(process);
  const lines = (): LogLine[] => readJsonLines<LogLine>(log);
  return {
    port: chosen,
    log,
    process,
    lines,
    sessions: () => lines().flatMap((line) => (line.opened && line.client !== 'sessiongate-federation-probe' ? [line.opened] : [])),
  };
}

let a: Upstream;
let b: Upstream;

beforeAll(async () => {
  [a, b] = await Promise.all([upstream('a'), upstream('b', ['--paged'])]);
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => {});
});

afterAll(async () => {
  for (const process of running.splice(0).reverse()) await process.kill();
  rmSync(dir, { recursive: true, force: true });
});

function serverFlags(servers: { a?: Upstream; b?: Upstream; c?: boolean } = { a, b, c: true }): string[] {
  return [
    ...(servers.a ? ['--server', `a=http://127.0.0.1:${servers.a.port}/mcp`] : []),
    ...(servers.b ? ['--server', `b=http://127.0.0.1:${servers.b.port}/mcp`] : []),
    ...(servers.c ? ['--server', `c=stdio:${process.execPath} ${STDIO_SERVER}`] : []),
  ];
}

const GATEWAY_FLAGS = ['--port', '0', '--store', 'memory', '--child-ledger', 'off', '--spares', '0'];

/** The command's gateway, in this process (helpers/in-process-gateway.ts). */
async function gateway(args: string[]): Promise<InProcessGateway> {
  const started = await startGateway([...GATEWAY_FLAGS, ...args]);
  running.push(started);
  return started;
}

/** The real command, for what its child processes or a signal to it show. */
async function gatewayProcess(args: string[]): Promise<DemoProcess> {
  const started = await startCli([...GATEWAY_FLAGS, ...args]);
  running.push(started);
  return started;
}

/** The official SDK client, answering sampling requests with the question it was asked. */
async function sdkClient(url: string, name = 'federation-test'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const asked = request.params.messages[0]!.content as { text: string };
    return { role: 'assistant', content: { type: 'text', text: `answer to ${asked.text}` }, model: 'test' };
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe('names, ids and cursors', () => {
  it('splits a name at the first separator, whatever the tool is called', () => {
    const names = new ServerNames('__');
    expect(names.split(names.join('github', 'create__issue'))).toEqual({ server: 'github', name: 'create__issue' });
    expect(names.split('no-separator')).toBeUndefined();
    expect(names.split('Bad__x')).toBeUndefined();
    expect(() => new ServerNames('-')).toThrow(/ambiguous/);
  });

  it('keeps server ids and progress tokens apart, and brings answers back to their server', () => {
    expect(serverId(federatedId('a', 0))).toEqual({ server: 'a', id: 0 });
    expect(serverId(federatedId('b', '0'))).toEqual({ server: 'b', id: '0' });
    expect(federatedId('a', 0)).not.toBe(federatedId('b', 0));
    const asked = toClient('a', { jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: { _meta: { progressToken: 3 } } });
    expect(asked).toMatchObject({ id: 'a:n7', params: { _meta: { progressToken: 'a:n3' } } });
    expect(fromClient({ jsonrpc: '2.0', id: 'a:n7', result: {} })).toEqual({ server: 'a', message: { jsonrpc: '2.0', id: 7, result: {} } });
    expect(fromClient({ jsonrpc: '2.0', id: 7, result: {} })).toBeUndefined();
  });

  it("nests each server's instructions under its own heading, its headings pushed down, code blocks untouched", () => {
    const member = (name: string, instructions?: string) =>
      ({ name, described: instructions === undefined ? {} : { instructions } }) as Member;
    const merged = mergedInstructions([
      member('docs', '# Docs server\nUse search first.\n## Limits\nTen a minute.\n```sh\n# a shell comment\n```'),
      member('quiet'),
      member('deep', '##### Five\n###### Six'),
    ]);
    expect(merged).toBe(
      [
        '## docs',
        '### Docs server',
        'Use search first.',
        '#### Limits',
        'Ten a minute.',
        '```sh',
        '# a shell comment',
        '```',
        '',
        '## deep',
        '###### Five',
        '###### Six',
      ].join('\n'),
    );
    expect(mergedInstructions([member('quiet'), member('blank', '  ')])).toBeUndefined();
  });

  it('refuses a cursor it did not make or that names an unknown server', () => {
    const known = new Set(['a', 'b']);
    const cursor = encodeCursor(new Map([['a', 'x']]))!;
    expect(decodeCursor(cursor, known)).toEqual(new Map([['a', 'x']]));
    expect(decodeCursor(cursor, new Set(['b']))).toBeUndefined();
    expect(decodeCursor('sgf1.!!!', known)).toBeUndefined();
    expect(decodeCursor('anything', known)).toBeUndefined();
  });
});

describe('three servers behind one gateway', () => {
  it('merges and pages lists, routes calls by name and URI, one upstream session per server per session, DELETE ends them all', async () => {
    const gw = await gatewayProcess(serverFlags());
    const sessionsBefore = { a: a.sessions().length, b: b.sessions().length };
    const { client, transport } = await sdkClient(gw.url);

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    // The same tool name on three servers, kept apart by the prefix.
    expect(tools).toEqual(expect.arrayContaining(['a__echo', 'b__echo', 'c__echo', 'a__ask', 'c__ask', 'c__progress']));
    expect(tools.every((name) => /^[abc]__/.test(name))).toBe(true);

    // a lists one resource, b 25 in pages of 10: three merged pages, nothing repeated or lost.
    const uris: string[] = [];
    let page = await client.listResources();
    let pages = 1;
    uris.push(...page.resources.map((resource) => resource.uri));
    while (page.nextCursor) {
      page = await client.listResources({ cursor: page.nextCursor });
      uris.push(...page.resources.map((resource) => resource.uri));
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(uris).size).toBe(26);
    await expect(client.listResources({ cursor: 'forged' })).rejects.toThrow(/cursor/);

    // Calls reach the server they name, and only it.
    expect(text(await client.callTool({ name: 'a__echo', arguments: { text: 'to a' } }))).toBe('to a');
    expect(text(await client.callTool({ name: 'b__echo', arguments: { text: 'to b' } }))).toBe('to b');
    const pidA = text(await client.callTool({ name: 'a__whoami', arguments: {} }));
    const pidB = text(await client.callTool({ name: 'b__whoami', arguments: {} }));
    expect(Number(pidA)).toBe(a.process.child.pid);
    expect(Number(pidB)).toBe(b.process.child.pid);
    expect(a.lines().filter((line) => line.method === 'tools/call' && line.name === 'echo')).toHaveLength(1);
    expect(b.lines().filter((line) => line.method === 'tools/call' && line.name === 'echo')).toHaveLength(1);
    // Resources are routed by the server that listed them.
    const item = await client.readResource({ uri: 'test://item/3' });
    expect(item.contents[0]).toMatchObject({ text: `item of ${b.process.child.pid}` });
    expect(a.lines().some((line) => line.method === 'resources/read')).toBe(false);
    // A URI both could serve goes to the one that listed it (here a, the only one listing it).
    await client.readResource({ uri: 'test://watched' });
    expect(a.lines().filter((line) => line.method === 'resources/read')).toHaveLength(1);

    // Two servers ask the client at once (both SDK servers number their first request 0): each gets its own answer.
    const [fromA, fromC] = await Promise.all([
      client.callTool({ name: 'a__ask', arguments: {} }),
      client.callTool({ name: 'c__ask', arguments: {} }),
    ]);
    expect(text(fromA)).toBe(`client said answer to question of ${a.process.child.pid}`);
    expect(text(fromC)).toBe('client said answer to hi?');

    // Progress from one server while another is busy answering.
    const slow = client.callTool({ name: 'a__slow', arguments: { ms: 900 } });
    const progress: number[] = [];
    await client.callTool({ name: 'c__progress', arguments: {} }, undefined, { onprogress: (p) => void progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(a.lines().some((line) => line.slowDone === 900)).toBe(false);
    expect(text(await slow)).toBe('slow done');

    // Session-scoped calls: the level to every open server that logs, a subscription to the URI's server only.
    await client.setLoggingLevel('debug');
    await client.subscribeResource({ uri: 'test://watched' });
    const scoped = (log: Upstream) =>
      log
        .lines()
        .filter((line) => line.scoped !== undefined)
        .map((line) => line.scoped);
    expect(scoped(a)).toEqual(['logging/setLevel', 'resources/subscribe']);
    expect(scoped(b)).toEqual(['logging/setLevel']);

    // Unknown names are the client's mistake, with the protocol's error.
    await expect(client.callTool({ name: 'zz__echo', arguments: {} })).rejects.toThrow(/-32602.*Unknown tool/);

    // One upstream session per server for this downstream session.
    expect(a.sessions().length - sessionsBefore.a).toBe(1);
    expect(b.sessions().length - sessionsBefore.b).toBe(1);
    const [sessionA] = a.sessions().slice(-1);
    const [sessionB] = b.sessions().slice(-1);
    const childC = Number(text(await client.callTool({ name: 'c__whoami', arguments: {} })));
    expect(childrenOf(gw.pid)).toContain(childC);

    // A second downstream session (our own transport this time) gets upstream sessions of its own.
    const second = new Client({ name: 'second', version: '1.0.0' });
    await second.connect(new SessionClientTransport(gw.url));
    clients.push(second);
    expect(text(await second.callTool({ name: 'a__echo', arguments: { text: 'second' } }))).toBe('second');
    expect(a.sessions().length - sessionsBefore.a).toBe(2);
    const secondA = a.sessions().at(-1);
    expect(secondA).not.toBe(sessionA);
    expect(a.lines().find((line) => line.method === 'tools/call' && line.sessionId === secondA)).toBeDefined();
    expect(b.sessions().length - sessionsBefore.b).toBe(1); // b not used by it: not opened

    // DELETE ends every upstream session and the child.
    await transport.terminateSession();
    await expect.poll(() => a.lines().some((line) => line.closed === sessionA)).toBe(true);
    await expect.poll(() => b.lines().some((line) => line.closed === sessionB)).toBe(true);
    await expect.poll(() => isAlive(childC)).toBe(false);
    expect(a.lines().some((line) => line.closed === secondA)).toBe(false);
  });

  it('one server killed: only its calls fail (naming it), lists leave it out, and it comes back by itself', async () => {
    const lost = await upstream('lost');
    const gw = await gateway(serverFlags({ a: lost, b, c: true }));
    const { client } = await sdkClient(gw.url);
    const changed: number[] = [];
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed.push(Date.now()));
    expect(text(await client.callTool({ name: 'a__echo', arguments: { text: 'before' } }))).toBe('before');

    await lost.process.kill('SIGKILL');
    const failed = await client.callTool({ name: 'a__echo', arguments: { text: 'while down' } }).catch((error: Error) => error);
    expect(String(failed)).toMatch(/server "a" is unavailable/);
    expect((failed as Error & { data?: unknown }).data).toEqual({ code: 'SG_UPSTREAM_UNAVAILABLE', server: 'a' });
    // The others answer as before.
    expect(text(await client.callTool({ name: 'b__echo', arguments: { text: 'b fine' } }))).toBe('b fine');
    expect(text(await client.callTool({ name: 'c__echo', arguments: { text: 'c fine' } }))).toBe('c fine');
    const whileDown = (await client.listTools()).tools.map((tool) => tool.name);
    expect(whileDown.some((name) => name.startsWith('a__'))).toBe(false);
    expect(whileDown).toContain('b__echo');
    // The failed call made the gateway ask a at once; its probe is refused too.
    const stateOfA = async (): Promise<string | undefined> => {
      const health = (await (await fetch(gw.url.replace(/\/mcp$/, '/healthz?servers=1'))).json()) as {
        servers: { name: string; state: string }[];
      };
      return health.servers.find((server) => server.name === 'a')?.state;
    };
    await expect.poll(stateOfA).toBe('down');
    expect(await (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text()).toContain('sessiongate_federated_server_up{server="a"} 0');

    // Back on the same port: the gateway finds it, tells the client, and the session heals (re-initialized upstream).
    const back = await upstream('lost-again', [], lost.port);
    await expect.poll(() => changed.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('a__echo');
    expect(text(await client.callTool({ name: 'a__echo', arguments: { text: 'after' } }))).toBe('after');
    expect(back.sessions()).toHaveLength(1);
  });
});

describe('a peer nobody here wrote: the reference server-everything behind the federation', () => {
  it('prompts, completions of prompt and template arguments, and a URI found by its template reach it, beside another server', async () => {
    const gw = await gateway(['--server', `ev=stdio:${EVERYTHING_STDIO}`, ...serverFlags({ a })]);
    const { client } = await sdkClient(gw.url, 'everything');
    const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
    expect(prompts).toEqual(expect.arrayContaining(['ev__simple-prompt', 'ev__completable-prompt']));
    const prompt = await client.getPrompt({ name: 'ev__completable-prompt', arguments: { department: 'Sales', name: 'Eve' } });
    expect(JSON.stringify(prompt.messages)).toContain('promote Eve to the head of the Sales team');
    const departments = await client.complete({
      ref: { type: 'ref/prompt', name: 'ev__completable-prompt' },
      argument: { name: 'department', value: 'S' },
    });
    expect(departments.completion.values).toEqual(['Sales', 'Support']);

    const templates = (await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
    expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
    // Never listed: routed by the template's fixed beginning.
    const read = await client.readResource({ uri: 'demo://resource/dynamic/text/3' });
    expect(read.contents[0]?.uri).toBe('demo://resource/dynamic/text/3');
    const ids = await client.complete({
      ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '3' },
    });
    expect(ids.completion.values).toEqual(['3']);

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(['ev__echo', 'a__echo']));
    expect(text(await client.callTool({ name: 'ev__echo', arguments: { message: 'to everything' } }))).toContain('to everything');
  });

  it("a template's completion on a fresh gateway, before anything was listed, finds the server that has the template", async () => {
    const gw = await gateway([...serverFlags({ a }), '--server', `ev=stdio:${EVERYTHING_STDIO}`]);
    const { client } = await sdkClient(gw.url, 'fresh-completion');
    const ids = await client.complete({
      ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '3' },
    });
    expect(ids.completion.values).toEqual(['3']);
    // Remembered as that server's template: a URI of it now routes there directly.
    expect((await client.readResource({ uri: 'demo://resource/dynamic/text/4' })).contents[0]?.uri).toBe('demo://resource/dynamic/text/4');

    // Tasks do not pass through a federation yet: no tool says it supports them, and a call
    // asking for one never gets a task handle nobody could reach (tasks/get would be -32601).
    const tools = (await client.listTools()).tools;
    expect(tools.map((tool) => tool.name)).toContain('ev__simulate-research-query');
    expect(tools.filter((tool) => (tool as { execution?: { taskSupport?: unknown } }).execution?.taskSupport !== undefined)).toEqual([]);
    const answer = await client
      .request(
        { method: 'tools/call', params: { name: 'ev__simulate-research-query', arguments: { topic: 'x' }, task: { ttl: 60_000 } } },
        z.object({}).passthrough(),
      )
      .catch((error: unknown) => ({ error: String(error) }));
    expect(answer).not.toHaveProperty('task');
  });
});

describe('state across restarts and eras', () => {
  it('the gateway SIGKILLed and restarted on SQLite continues every upstream session', async () => {
    const store = `sqlite:${join(dir, 'federation.db')}`;
    const args = ['--port', '0', '--store', store, '--child-ledger', join(dir, 'ledger'), ...serverFlags()];
    const first = await startCli(args);
    running.push(first);
    const http = new SessionClientTransport(first.url);
    const client = new Client({ name: 'restart', version: '1.0.0' });
    await client.connect(http);
    clients.push(client);
    await client.callTool({ name: 'a__echo', arguments: { text: '1' } });
    await client.callTool({ name: 'b__echo', arguments: { text: '1' } });
    const childBefore = Number(text(await client.callTool({ name: 'c__whoami', arguments: {} })));
    const [upstreamA] = a.sessions().slice(-1);
    const [upstreamB] = b.sessions().slice(-1);
    const opened = { a: a.sessions().length, b: b.sessions().length };
    const sessionId = http.sessionId!;

    await first.kill('SIGKILL');
    const port = new URL(first.url).port;
    const second = await startCli(args.map((arg) => (arg === '0' ? port : arg)));
    running.push(second);
    // The killed run's child was found in the ledger and stopped.
    await expect.poll(() => isAlive(childBefore)).toBe(false);

    // The same client, the same session id, against the restarted gateway on the same port.
    expect(text(await client.callTool({ name: 'a__echo', arguments: { text: '2' } }))).toBe('2');
    expect(text(await client.callTool({ name: 'b__echo', arguments: { text: '2' } }))).toBe('2');
    expect(http.sessionId).toBe(sessionId);
    const childAfter = Number(text(await client.callTool({ name: 'c__whoami', arguments: {} })));
    expect(childAfter).not.toBe(childBefore);
    // The stored upstream sessions were continued, not replaced.
    expect({ a: a.sessions().length, b: b.sessions().length }).toEqual(opened);
    expect(a.lines().filter((line) => line.method === 'tools/call' && line.sessionId === upstreamA)).toHaveLength(2);
    expect(b.lines().filter((line) => line.method === 'tools/call' && line.sessionId === upstreamB)).toHaveLength(2);
  });

  it('a sessionless (2026-07-28) client is federated too: its conversation owns the upstream sessions', async () => {
    const gw = await gateway(serverFlags({ a, b }));
    const client = new SessionlessClient(gw.url);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'sessionless-federation', version: '1.0.0' },
      clientSessionId: '9b2c1c62-2a9f-4d5e-9a0e-00000000fed1',
    };
    const opened = a.sessions().length;
    const list = await client.request({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } });
    expect(JSON.stringify(list)).toContain('b__echo');
    for (const id of [2, 3]) {
      const call = await client.request({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'a__echo', arguments: { text: `sessionless ${id}` }, _meta: meta },
      });
      expect(JSON.stringify(call)).toContain(`sessionless ${id}`);
    }
    // Both calls in one conversation: one upstream session on a.
    expect(a.sessions().length - opened).toBe(1);
  });

  it('--eager-upstreams opens every server at initialize; --upstream-idle-timeout closes an unused one and reopens it on use', async () => {
    const gw = await gateway([...serverFlags({ a, b }), '--eager-upstreams', '--upstream-idle-timeout', '1s']);
    const opened = { a: a.sessions().length, b: b.sessions().length };
    const { client } = await sdkClient(gw.url, 'eager');
    await expect.poll(() => a.sessions().length - opened.a).toBe(1);
    expect(b.sessions().length - opened.b).toBe(1);
    const first = a.sessions().at(-1)!;
    await client.callTool({ name: 'a__echo', arguments: { text: 'x' } });
    await expect.poll(() => a.lines().some((line) => line.closed === first), { timeout: 10_000 }).toBe(true);
    expect(text(await client.callTool({ name: 'a__echo', arguments: { text: 'reopened' } }))).toBe('reopened');
    expect(a.sessions().length - opened.a).toBe(2);
  });
});

describe('replicas on a shared Redis', () => {
  it("a stdio server's request to the client, answered on another replica, reaches its child", async () => {
    const redis = await startRedis();
    running.push({ kill: () => redis.stop() });
    const args = [`c=stdio:${process.execPath} ${STDIO_SERVER}`].flatMap((server) => ['--server', server]);
    const [first, second] = await Promise.all([gateway([...args, '--store', redis.url]), gateway([...args, '--store', redis.url])]);
    const id = await openSession(first.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const stream = await postStream(first.url, headers, toolCall('c__ask', {}, 2));
    const asked = (await stream.next(10_000)) as { id: string; method: string };
    expect(asked.method).toBe('sampling/createMessage');
    expect(asked.id).toMatch(/^c:/);
    const answer = { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', content: { type: 'text', text: 'from B' }, model: 'm' } };
    expect((await send(second.url, { headers, body: answer })).status).toBe(202);
    expect(JSON.stringify(await stream.next(10_000))).toContain('client said from B');
    stream.close();
  });
});

describe('configuration, policy and audit per server', () => {
  it('a config file `servers` map, rules naming servers, and audit lines naming the server', async () => {
    const config = join(dir, 'federation.json');
    writeFileSync(
      config,
      JSON.stringify({
        servers: {
          a: { url: `http://127.0.0.1:${a.port}/mcp`, headers: { 'x-team': 'alpha' } },
          b: { url: `http://127.0.0.1:${b.port}/mcp` },
        },
      }),
    );
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ default: 'allow', rules: [{ id: 'no-b', effect: 'deny', servers: ['b'], reason: 'b is closed' }] }),
    );
    const audit = join(dir, 'audit.log');
    const gw = await gateway(['--config', config, '--policy', policy, '--audit', audit]);
    const { client } = await sdkClient(gw.url, 'policy');
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toContain('a__headers');
    expect(tools.some((name) => name.startsWith('b__'))).toBe(false);
    await expect(client.callTool({ name: 'b__echo', arguments: { text: 'no' } })).rejects.toThrow(/b is closed/);
    const headers = JSON.parse(text(await client.callTool({ name: 'a__headers', arguments: {} }))) as Record<string, string>;
    expect(headers['x-team']).toBe('alpha');
    await expect
      .poll(() =>
        readJsonLines<{ name?: string; server?: string; decision?: string }>(audit).filter(
          (line) => line.name?.endsWith('__headers') || line.name === 'b__echo',
        ),
      )
      .toEqual([
        expect.objectContaining({ name: 'b__echo', server: 'b', decision: 'deny' }),
        expect.objectContaining({ name: 'a__headers', server: 'a', decision: 'allow' }),
      ]);
    expect(b.lines().some((line) => line.method === 'tools/call' && line.name === 'echo' && line.sessionId === b.sessions().at(-1))).toBe(
      false,
    );
  });

  it('SIGHUP applies a changed `servers` map live: a server added, one removed, one changed; clients told the lists changed; a broken file changes nothing', async () => {
    const earlier = new Set(a.sessions());
    const config = join(dir, 'reload.json');
    const write = (settings: Record<string, unknown>): void => writeFileSync(config, JSON.stringify(settings));
    const stdioC = { stdio: `${process.execPath} ${STDIO_SERVER}` };
    write({ servers: { a: { url: `http://127.0.0.1:${a.port}/mcp` }, c: stdioC }, 'idle-timeout': '30m' });
    const gw = await gatewayProcess(['--config', config]);
    const { client } = await sdkClient(gw.url, 'reload');
    const names = async (): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name.split('__')[0]!);
    expect(new Set(await names())).toEqual(new Set(['a', 'c']));
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    // The SDK client's GET stream is open once the gateway's start-up summary and the initialized notification are through.
    await expect.poll(() => client.ping().then(() => true)).toBe(true);

    await client.callTool({ name: 'c__echo', arguments: { text: 'c has a child for this session' } });
    const cChildren = childrenOf(gw.pid);
    expect(cChildren.length).toBeGreaterThan(0);
    // The upstream session a holds for this client: the one opened since this test began.
    await client.callTool({ name: 'a__echo', arguments: { text: 'a has a session for this client' } });
    const ours = a.sessions().filter((id) => !earlier.has(id));
    expect(ours).toHaveLength(1);

    // b added, c removed, a changed (a header), and a setting that only a restart applies.
    write({
      servers: {
        a: { url: `http://127.0.0.1:${a.port}/mcp`, headers: { 'x-team': 'reloaded' } },
        b: { url: `http://127.0.0.1:${b.port}/mcp` },
      },
      'idle-timeout': '10m',
    });
    process.kill(gw.pid, 'SIGHUP');
    await expect
      .poll(() => gw.output(), { timeout: 15_000 })
      .toContain(
        `SIGHUP: ${config}: servers reloaded: added b; changed a; removed c; changed in the file, applied at the next start: idle-timeout`,
      );
    await expect.poll(() => listChanged, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(new Set(await names())).toEqual(new Set(['a', 'b']));
    await expect(client.callTool({ name: 'c__echo', arguments: { text: 'gone' } })).rejects.toThrow(/Unknown tool/);
    // The removed server's children are stopped; the changed server's old upstream session is ended (DELETE), not left to expire.
    await expect.poll(() => cChildren.filter(isAlive), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => a.lines().some((line) => line.closed === ours[0]), { timeout: 10_000 }).toBe(true);
    expect(text(await client.callTool({ name: 'b__echo', arguments: { text: 'new' } }))).toContain('new');
    const headers = JSON.parse(text(await client.callTool({ name: 'a__headers', arguments: {} }))) as Record<string, string>;
    expect(headers['x-team']).toBe('reloaded');
    const health = (await (await fetch(gw.url.replace(/\/mcp$/, '/healthz?servers=1'))).json()) as { servers: { name: string }[] };
    expect(health.servers.map((server) => server.name)).toEqual(['a', 'b']);

    // A file with a mistake: what runs is kept, and the reason is printed.
    writeFileSync(config, JSON.stringify({ servers: { a: { url: 'ftp://nope' } } }));
    process.kill(gw.pid, 'SIGHUP');
    await expect.poll(() => gw.output(), { timeout: 10_000 }).toContain('kept what was running');
    expect(new Set(await names())).toEqual(new Set(['a', 'b']));
  });

  it('refuses bad server settings at start-up, naming them', async () => {
    const bad = async (args: string[]): Promise<string> => {
      const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', ...args]);
      expect(code).toBe(1);
      return stderr;
    };
    expect(await bad(['--server', 'Bad=http://127.0.0.1:1/mcp'])).toMatch(/invalid server/);
    expect(await bad(['--server', 'a=http://127.0.0.1:1/mcp', '--server', 'a=stdio:x'])).toMatch(/named twice/);
    expect(await bad(['--server', 'a=ftp://x'])).toMatch(/neither an http\(s\) URL nor stdio/);
    expect(await bad(['--server', 'a=http://127.0.0.1:1/mcp', '--upstream', 'http://127.0.0.1:1/mcp'])).toMatch(/excludes --upstream/);
    expect(await bad(['--server', 'a=http://127.0.0.1:1/mcp', '--namespace-separator', 'x'])).toMatch(/ambiguous/);
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ servers: { a: { url: 'http://127.0.0.1:1/mcp', spares: 2 } } }));
    expect(await bad(['--config', config])).toMatch(/spares .* stdio/);
  }, 60_000); // six starts of the command: past 30 s on this 2-core machine with the rest of the suite and a burner beside it
});
