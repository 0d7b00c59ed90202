/**
 * Curation (docs/CURATION.md): what clients see of the upstream's tools, prompts and resources,
 * and what the upstream receives when they call them. Real processes: official-SDK servers over
 * HTTP and stdio (test/fixtures: their `search` tool answers with the arguments it received, the
 * HTTP one logs every request), `@modelcontextprotocol/server-everything`, a federation of two,
 * the official SDK client; the gateway is the command's, in this process, with `--curation`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileCuration } from '../src/gateway/curation/curation.js';
import { CURATION_SCHEMA } from '../src/gateway/curation/curation-schema.js';
import { curationStage } from '../src/gateway/curation/curation-stage.js';
import type { JsonObject, JsonRpcResponse } from '../src/protocol/jsonrpc.js';
import type { McpApplication, RequestContext } from '../src/server/application.js';
import { compose } from '../src/server/stage.js';
import { parseCuration } from '../src/gateway/curation/read-curation.js';
import { runCli } from './helpers/demo-process.js';
import { EVERYTHING_STDIO, freePort } from './helpers/everything.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { readJsonLines } from './helpers/json-lines.js';
import { type ServerProcess, startProcess } from './helpers/processes.js';

const STDIO_SERVER = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sessiongate-curation-'));
const running: { kill(): Promise<unknown> }[] = [];
const clients: Client[] = [];
const GATEWAY_FLAGS = ['--port', '0', '--store', 'memory', '--child-ledger', 'off', '--spares', '0'];

interface LogLine {
  method?: string;
  name?: string | null;
  arguments?: Record<string, unknown> | null;
}

let upstream: ServerProcess;
let upstreamLog: string;
let other: ServerProcess;
let otherLog: string;

beforeAll(async () => {
  upstreamLog = join(dir, 'upstream.log');
  otherLog = join(dir, 'other.log');
  [upstream, other] = await Promise.all([
    startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', upstreamLog]),
    startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', otherLog]),
  ]);
  running.push(upstream, other);
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => {});
});

afterAll(async () => {
  for (const process of running.splice(0).reverse()) await process.kill();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function file(content: object | string, extension = 'json'): string {
  const path = join(dir, `file-${++files}.${extension}`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function gateway(args: string[]): Promise<InProcessGateway> {
  const started = await startGateway([...GATEWAY_FLAGS, ...args]);
  running.push(started);
  return started;
}

async function client(url: string): Promise<Client> {
  const connected = new Client({ name: 'curation-test', version: '1' });
  await connected.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(connected);
  return connected;
}

function textOf(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

/** What the upstream's own log says its `search` tool was called with, last first. */
function searchCalls(log: string): LogLine[] {
  return readJsonLines<LogLine>(log)
    .filter((line) => line.method === 'tools/call')
    .reverse();
}

const SEARCH_CURATED = {
  tools: {
    search: {
      name: 'find_docs',
      title: 'Find documents',
      description: 'Finds documents in the EU index.',
      arguments: { region: { fixed: 'eu' }, limit: { default: 5 } },
      annotations: { readOnlyHint: true },
    },
    echo: { description: { append: ' Never send secrets.' } },
    whoami: { hidden: true },
  },
};

describe('a single HTTP upstream, curated', () => {
  let url: string;
  let auditFile: string;

  beforeAll(async () => {
    auditFile = join(dir, 'audit.jsonl');
    const policy = file({
      default: 'allow',
      rules: [
        {
          id: 'no-search-with-secret',
          effect: 'deny',
          tools: ['search'],
          arguments: { properties: { query: { const: 'secret' } }, required: ['query'] },
        },
      ],
    });
    ({ url } = await gateway(['--upstream', upstream.url, '--curation', file(SEARCH_CURATED), '--policy', policy, '--audit', auditFile]));
  });

  it('lists the tools as curated: renamed, re-described, a fixed argument gone, a default shown, hidden ones absent', async () => {
    const { tools } = await (await client(url)).listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('find_docs');
    expect(names).not.toContain('search');
    expect(names).not.toContain('whoami');
    const findDocs = tools.find((tool) => tool.name === 'find_docs')!;
    expect(findDocs.title).toBe('Find documents');
    expect(findDocs.description).toBe('Finds documents in the EU index.');
    expect(findDocs.annotations).toMatchObject({ readOnlyHint: true });
    expect(Object.keys(findDocs.inputSchema.properties ?? {}).sort()).toEqual(['limit', 'query']);
    expect((findDocs.inputSchema.properties as Record<string, { default?: unknown }>)['limit']!.default).toBe(5);
    expect(findDocs.inputSchema.required).toEqual(['query']);
    expect(tools.find((tool) => tool.name === 'echo')!.description).toBe('Echoes the text. Never send secrets.');
  });

  it('calls reach the upstream under its own name, with the fixed and default arguments set', async () => {
    const mcp = await client(url);
    const result = await mcp.callTool({ name: 'find_docs', arguments: { query: 'maps' } });
    expect(JSON.parse(textOf(result))).toEqual({ query: 'maps', limit: 5, region: 'eu' });
    expect(searchCalls(upstreamLog)[0]).toMatchObject({ name: 'search', arguments: { query: 'maps', limit: 5, region: 'eu' } });
    // A default is the caller's to change; the same value for a fixed argument passes.
    const chosen = await mcp.callTool({ name: 'find_docs', arguments: { query: 'maps', limit: 2, region: 'eu' } });
    expect(JSON.parse(textOf(chosen))).toEqual({ query: 'maps', limit: 2, region: 'eu' });
  });

  it('refuses another value for a fixed argument, and names curated away as unknown', async () => {
    const mcp = await client(url);
    const before = searchCalls(upstreamLog).length;
    await expect(mcp.callTool({ name: 'find_docs', arguments: { query: 'maps', region: 'us' } })).rejects.toThrow(
      /argument "region" is set by the gateway/,
    );
    await expect(mcp.callTool({ name: 'search', arguments: { query: 'maps', limit: 1, region: 'us' } })).rejects.toThrow(
      /Unknown tool: search/,
    );
    await expect(mcp.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(/Unknown tool: whoami/);
    expect(searchCalls(upstreamLog).length).toBe(before);
  });

  it('the policy decides on the upstream name and the audit names both', async () => {
    const mcp = await client(url);
    await expect(mcp.callTool({ name: 'find_docs', arguments: { query: 'secret' } })).rejects.toThrow(/denied|not allowed|policy/i);
    await mcp.callTool({ name: 'find_docs', arguments: { query: 'audited' } });
    // The audit log is written in batches: wait for the lines.
    const calls = (): Record<string, unknown>[] =>
      readJsonLines<Record<string, unknown>>(auditFile).filter(
        (line) => line['method'] === 'tools/call' && line['calledAs'] === 'find_docs',
      );
    await vi.waitFor(() => expect(calls().some((line) => line['decision'] === 'deny')).toBe(true), { timeout: 10_000, interval: 50 });
    expect(calls().find((line) => line['decision'] === 'deny')).toMatchObject({ name: 'search', rule: 'no-search-with-secret' });
    expect(calls().find((line) => line['outcome'] === 'result')).toMatchObject({ name: 'search' });
  });
});

describe('a stdio upstream, curated', () => {
  it('fixed arguments reach the child as set', async () => {
    const curation = file({ tools: { search: { arguments: { region: { fixed: 'apac' }, limit: { fixed: 1 } } } } });
    const { url } = await gateway(['--stdio', `${process.execPath} ${STDIO_SERVER}`, '--curation', curation]);
    const mcp = await client(url);
    const { tools } = await mcp.listTools();
    expect(tools.find((tool) => tool.name === 'search')!.inputSchema.required).toEqual(['query']);
    const result = await mcp.callTool({ name: 'search', arguments: { query: 'q' } });
    expect(JSON.parse(textOf(result))).toEqual({ query: 'q', limit: 1, region: 'apac' });
  });
});

describe('server-everything: prompts and resources', () => {
  it('a prompt renamed with a fixed argument, a resource hidden, a tool renamed', async () => {
    const hidden = 'demo://resource/static/document/features.md';
    const curation = file(
      [
        'prompts:',
        '  args-prompt: { name: weather-prompt, arguments: { state: { fixed: CA } } }',
        '  completable-prompt: { name: team-prompt }',
        'resources:',
        `  "${hidden}": { hidden: true }`,
        '  "demo://resource/static/document/architecture.md": { description: "How it is built." }',
        'tools:',
        '  get-sum: { name: add-ten, arguments: { b: { fixed: 10 } } }',
      ].join('\n'),
      'yaml',
    );
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--curation', curation]);
    const mcp = await client(url);
    const { prompts } = await mcp.listPrompts();
    const weather = prompts.find((prompt) => prompt.name === 'weather-prompt')!;
    expect(weather.arguments?.map((argument) => argument.name)).toEqual(['city']);
    expect(prompts.map((prompt) => prompt.name)).not.toContain('args-prompt');
    const got = await mcp.getPrompt({ name: 'weather-prompt', arguments: { city: 'Fresno' } });
    expect(JSON.stringify(got.messages)).toMatch(/Fresno.*CA/);
    // A completion names the prompt as the client knows it.
    const completion = await mcp.complete({
      ref: { type: 'ref/prompt', name: 'team-prompt' },
      argument: { name: 'department', value: 'E' },
    });
    expect(completion.completion.values).toContain('Engineering');
    const { resources } = await mcp.listResources();
    expect(resources.map((resource) => resource.uri)).not.toContain(hidden);
    expect(resources.find((resource) => resource.uri.endsWith('architecture.md'))!.description).toBe('How it is built.');
    // Another spelling of the hidden URI is the same resource (the hygiene stage's normal form).
    await expect(mcp.readResource({ uri: 'demo://resource/static/document/x/../features.md' })).rejects.toThrow(/Resource not found/);
    await expect(mcp.readResource({ uri: hidden })).rejects.toThrow(/Resource not found/);
    const sum = await mcp.callTool({ name: 'add-ten', arguments: { a: 5 } });
    expect(textOf(sum)).toMatch(/15/);
  }, 30_000);
});

describe('a federation, curated', () => {
  it("a curated name replaces NAME__tool; other servers' tools keep the prefix", async () => {
    const curation = file({ servers: { a: { tools: { search: { name: 'docs', arguments: { region: { fixed: 'eu' } } } } } } });
    const { url } = await gateway(['--server', `a=${upstream.url}`, '--server', `b=${other.url}`, '--curation', curation]);
    const mcp = await client(url);
    const names = (await mcp.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('docs');
    expect(names).toContain('b__search');
    expect(names).not.toContain('a__search');
    const result = await mcp.callTool({ name: 'docs', arguments: { query: 'fed', limit: 3 } });
    expect(JSON.parse(textOf(result))).toEqual({ query: 'fed', limit: 3, region: 'eu' });
    expect(searchCalls(upstreamLog)[0]).toMatchObject({ name: 'search', arguments: { query: 'fed', limit: 3, region: 'eu' } });
    await expect(mcp.callTool({ name: 'a__search', arguments: { query: 'x', limit: 1, region: 'us' } })).rejects.toThrow(/Unknown tool/);
  });

  it('refuses a curation naming a server it does not have, or items outside "servers"', async () => {
    const stray = file({ servers: { nope: { tools: { search: { hidden: true } } } } });
    const result = await runCli([...GATEWAY_FLAGS, '--server', `a=${upstream.url}`, '--curation', stray]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/servers\/nope is not a server of this gateway/);
  });
});

describe('the curation file', () => {
  it('is checked: every problem named, before anything starts', async () => {
    const bad = file({ tools: { search: { name: 'has space', hidden: 'yes', colour: 'red' } }, pin: 'sometimes' });
    const result = await runCli([...GATEWAY_FLAGS, '--upstream', upstream.url, '--curation', bad]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toMatch(/\/tools\/search\/name/);
    expect(result.stderr).toMatch(/unknown property "colour"/);
    expect(result.stderr).toMatch(/\/pin must be one of/);
  });

  it('argument and tool names are any a server uses: __proto__ is fixed and shown like any other', async () => {
    const curation = compileCuration(
      parseCuration('{"tools": {"t": {"arguments": {"__proto__": {"fixed": 1}, "constructor": {"default": 2}}}}}'),
    );
    const seen: unknown[] = [];
    const listedTool = JSON.parse(
      '{"name": "t", "inputSchema": {"type": "object", "properties": {"__proto__": {"type": "number"}, "x": {}}, "required": ["__proto__", "x"]}}',
    ) as JsonObject;
    const application: McpApplication = {
      handle: async (request) => {
        seen.push(request.params);
        const result: JsonObject = request.method === 'tools/list' ? { tools: [listedTool] } : { content: [] };
        return { jsonrpc: '2.0', id: request.id, result };
      },
      receive() {},
    };
    const composed = compose(application, [curationStage(curation)]);
    const context = { set() {}, get: () => undefined } as unknown as RequestContext;
    const list = (await composed.handle({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, context)) as JsonRpcResponse & {
      result: { tools: JsonObject[] };
    };
    const schema = list.result.tools[0]!['inputSchema'] as { properties: object; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(['x', 'constructor']);
    expect(schema.required).toEqual(['x']);
    await composed.handle({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 't', arguments: { x: 3 } } }, context);
    expect(JSON.stringify(seen.at(-1))).toBe('{"name":"t","arguments":{"constructor":2,"x":3,"__proto__":1}}');
  });

  it('schema/curation.schema.json is CURATION_SCHEMA (regenerate it when the schema changes)', () => {
    const published = JSON.parse(readFileSync(new URL('../schema/curation.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(CURATION_SCHEMA)));
  });

  it('two tools cannot be given one name, and a curated name takes the place of the tool that had it', () => {
    expect(() => compileCuration(parseCuration({ tools: { a: { name: 'same' }, b: { name: 'same' } } }))).toThrow(
      /would both be called "same"/,
    );
    const curation = compileCuration(parseCuration({ tools: { a: { name: 'b' } } }));
    expect(curation.tools.listed('b')).toBe('unlisted');
    expect(curation.tools.called('b')).toMatchObject({ inner: 'a' });
    expect(curation.tools.called('a')).toBe('unknown');
  });
});
