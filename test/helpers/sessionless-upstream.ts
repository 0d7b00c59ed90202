/**
 * A small MCP server of ours that speaks only 2026-07-28 (no sessions, no initialize), written
 * straight from the spec's pages with node:http and none of Sessiongate's code, so the gateway
 * is checked against an independent reading. Rules it enforces (Streamable HTTP 2026-07-28):
 * POST only (GET/DELETE 405); `_meta` protocol version and client capabilities required
 * (-32602); `MCP-Protocol-Version` equal to `_meta` (-32020); `Mcp-Method`, `Mcp-Name` and the
 * annotated `Mcp-Param-Region` equal to the body (-32020); unknown methods 404/-32601; log
 * messages only when `_meta` sets a level; server-to-client input only as InputRequiredResult
 * (MRTR); change notifications only on `subscriptions/listen` streams, acknowledged first.
 * Every POST it receives is recorded for the tests to inspect.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const VERSION = '2026-07-28';
const P = 'io.modelcontextprotocol/';

export interface Received {
  headers: IncomingHttpHeaders;
  body: { id?: unknown; method?: string; params?: Record<string, unknown> };
}

export interface SessionlessUpstream {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const TOOLS = [
  { name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
  {
    name: 'region_echo',
    inputSchema: {
      type: 'object',
      properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, text: { type: 'string' } },
      required: ['region'],
    },
  },
  // Invalid annotation (a number parameter): a conforming client leaves this tool out.
  { name: 'bad_header', inputSchema: { type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } } },
  { name: 'progress', inputSchema: { type: 'object' } },
  { name: 'log', inputSchema: { type: 'object' } },
  { name: 'ask', inputSchema: { type: 'object' } },
  { name: 'grow', inputSchema: { type: 'object' } },
];

function b64(value: string): string {
  const m = /^=\?base64\?(.*)\?=$/.exec(value.trim());
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value.trim();
}

export async function startSessionlessUpstream(): Promise<SessionlessUpstream> {
  const received: Received[] = [];
  const listeners = new Set<{ res: ServerResponse; id: unknown; filter: Json }>();

  const server = createServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Received['body'];
      received.push({ headers: req.headers, body });
      const id = body.id;
      const reply = (status: number, payload: Json): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, ...payload }));
      };
      const fail = (status: number, code: number, message: string, data?: Json): void =>
        reply(status, { error: { code, message, ...(data ? { data } : {}) } });
      const params = body.params ?? {};
      const meta = (params['_meta'] ?? {}) as Json;
      if (meta[`${P}protocolVersion`] === undefined || meta[`${P}clientCapabilities`] === undefined) {
        return fail(400, -32602, 'Invalid params: missing _meta keys');
      }
      if (req.headers['mcp-protocol-version'] !== meta[`${P}protocolVersion`]) return fail(400, -32020, 'Header mismatch: version');
      if (meta[`${P}protocolVersion`] !== VERSION) {
        return fail(400, -32022, 'Unsupported protocol version', { supported: [VERSION], requested: meta[`${P}protocolVersion`] });
      }
      if (req.headers['mcp-method'] !== body.method) return fail(400, -32020, 'Header mismatch: Mcp-Method');
      const name = (params['name'] ?? params['uri']) as string | undefined;
      if (['tools/call', 'prompts/get', 'resources/read'].includes(body.method!)) {
        const header = req.headers['mcp-name'];
        if (typeof header !== 'string' || b64(header) !== name) return fail(400, -32020, 'Header mismatch: Mcp-Name');
      }
      const args = (params['arguments'] ?? {}) as Json;
      if (body.method === 'tools/call' && name === 'region_echo') {
        const header = req.headers['mcp-param-region'];
        if (typeof header !== 'string' || b64(header) !== args['region']) return fail(400, -32020, 'Header mismatch: Mcp-Param-Region');
      }
      const result = (value: Json): void => reply(200, { result: { resultType: 'complete', ...value } });
      const content = (textValue: string): Json => ({ content: [{ type: 'text', text: textValue }] });
      switch (body.method) {
        case 'server/discover':
          return result({
            supportedVersions: [VERSION],
            capabilities: { tools: { listChanged: true }, logging: {} },
            instructions: 'A 2026-07-28 fixture.',
            ttlMs: 0,
            cacheScope: 'public',
            _meta: { [`${P}serverInfo`]: { name: 'sessionless-fixture', version: '1.0.0' } },
          });
        case 'tools/list':
          return result({ tools: TOOLS, ttlMs: 0, cacheScope: 'public' });
        case 'subscriptions/listen': {
          const wanted = (params['notifications'] ?? {}) as Json;
          const agreed = wanted['toolsListChanged'] === true ? { toolsListChanged: true } : {};
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const ack = {
            jsonrpc: '2.0',
            method: 'notifications/subscriptions/acknowledged',
            params: { notifications: agreed, _meta: { [`${P}subscriptionId`]: id } },
          };
          res.write(`event: message\ndata: ${JSON.stringify(ack)}\n\n`);
          const entry = { res, id, filter: agreed };
          listeners.add(entry);
          req.socket.on('close', () => listeners.delete(entry));
          return;
        }
        case 'tools/call':
          switch (name) {
            case 'echo':
              return result(content(String(args['text'])));
            case 'region_echo':
              return result(content(`${String(args['region'])}:${String(args['text'])}`));
            case 'progress':
            case 'log': {
              res.writeHead(200, { 'content-type': 'text/event-stream' });
              const send = (message: Json): void =>
                void res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', ...message })}\n\n`);
              if (name === 'progress' && meta['progressToken'] !== undefined) {
                for (let progress = 1; progress <= 3; progress++)
                  send({ method: 'notifications/progress', params: { progressToken: meta['progressToken'], progress, total: 3 } });
              }
              // No notifications/message unless the request set a level (2026-07-28, logLevel).
              if (name === 'log' && meta[`${P}logLevel`] !== undefined) {
                send({ method: 'notifications/message', params: { level: 'warning', data: 'careful' } });
              }
              send({ id, result: { resultType: 'complete', ...content('done') } });
              return void res.end();
            }
            case 'ask': {
              const caps = meta[`${P}clientCapabilities`] as Json;
              if (caps['elicitation'] === undefined)
                return fail(400, -32021, 'Missing client capability', { requiredCapabilities: { elicitation: {} } });
              const responses = params['inputResponses'] as Record<string, { content?: { name?: string } }> | undefined;
              if (!responses) {
                return result({
                  resultType: 'input_required',
                  inputRequests: {
                    who: {
                      method: 'elicitation/create',
                      params: { message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } },
                    },
                  },
                  requestState: 'state-1',
                });
              }
              if (params['requestState'] !== 'state-1') return fail(200, -32602, 'bad request state');
              return result(content(`hello ${responses['who']?.content?.name ?? '?'}`));
            }
            case 'grow':
              for (const listener of listeners) {
                if (listener.filter['toolsListChanged'] !== true) continue;
                const note = {
                  jsonrpc: '2.0',
                  method: 'notifications/tools/list_changed',
                  params: { _meta: { [`${P}subscriptionId`]: listener.id } },
                };
                listener.res.write(`event: message\ndata: ${JSON.stringify(note)}\n\n`);
              }
              return result(content('grown'));
            default:
              return fail(200, -32602, `Unknown tool: ${String(name)}`);
          }
        default:
          return fail(404, -32601, 'Method not found');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    received,
    async close() {
      for (const listener of listeners) listener.res.end();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
