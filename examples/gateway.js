// The gateway as a library: createGateway in front of an MCP server (here an SDK McpServer
// served by Sessiongate on another port), with a policy and the audit log, built from the
// package's exports alone. What `sessiongate --upstream URL --policy FILE --audit FILE` runs.
// Run: node examples/gateway.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MemoryStore } from 'sessiongate';
import { AuditLog, createGateway, FairSlots, httpUpstream } from 'sessiongate/gateway';
import { compilePolicy } from 'sessiongate/policy';
import { bindMcpServer, createSessionServer, listen } from 'sessiongate/server';
import { createMcpServer } from './mcp-server.js';

// The server behind the gateway.
const upstreamServer = createSessionServer({ application: bindMcpServer(() => createMcpServer()) });
const upstream = await listen(upstreamServer, 0, '127.0.0.1');

// The gateway: echo is allowed, everything else is refused in the answer.
const dir = mkdtempSync(join(tmpdir(), 'sessiongate-example-'));
const policy = compilePolicy({ default: 'deny', rules: [{ id: 'echo-ok', effect: 'allow', tools: ['echo'] }] });
const url = upstream.url;
const slots = new FairSlots(128);
const gateway = createGateway({
  upstream: httpUpstream({ url, slots }),
  http: { url, slots },
  store: new MemoryStore(),
  policy: { current: () => policy },
  audit: new AuditLog(join(dir, 'audit.jsonl')),
});
const { url: endpoint } = await gateway.listen({ port: 0, host: '127.0.0.1' });

const client = new Client({ name: 'example', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(endpoint)));
const { tools } = await client.listTools();
if (tools.map((tool) => tool.name).join() !== 'echo') throw new Error(`the policy should list echo alone: ${JSON.stringify(tools)}`);
const answer = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
if (answer.content?.[0]?.text !== 'through the gateway') throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);
await client.close();

await gateway.close({ graceMs: 1000, endSessions: true });
await upstream.stop(1000);
await upstreamServer.close();
await upstream.close();
const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
rmSync(dir, { recursive: true, force: true });
if (!audit.includes('"rule":"echo-ok"')) throw new Error('the audit should name the rule that allowed the call');
console.log(`ok: ${endpoint} served a session through the gateway, policy and audit on`);
