/**
 * A plain McpApplication with the demo's tools (`echo`, `whoami`, `slow`), written directly
 * against the application interface (no SDK): the fixture for the session server's own tests.
 */
import { JSONRPC } from '../../src/protocol/failures.js';
import { isObject, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../src/protocol/jsonrpc.js';
import { negotiateRevision } from '../../src/protocol/revisions.js';
import type { McpApplication, Reply } from '../../src/server/application.js';
import { MessageQueue } from '../../src/server/message-queue.js';

const MAX_SLOW_MS = 60_000;

export const DEMO_TOOLS: JsonObject[] = [
  {
    name: 'echo',
    description: 'Returns its text argument',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  { name: 'whoami', description: 'Returns the id of the process serving the request', inputSchema: { type: 'object', properties: {} } },
  {
    name: 'slow',
    description: 'Waits ms milliseconds, reporting progress when asked to',
    inputSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_SLOW_MS } }, required: ['ms'] },
  },
];

export function createPlainApplication(serverInfo: { name: string; version: string }): McpApplication {
  return {
    async handle(request) {
      switch (request.method) {
        case 'initialize':
          return ok(request, {
            protocolVersion: negotiateRevision(String(request.params?.['protocolVersion'])),
            capabilities: { tools: {} },
            serverInfo,
          });
        case 'ping':
          return ok(request, {});
        case 'tools/list':
          return ok(request, { tools: DEMO_TOOLS });
        case 'tools/call':
          return callTool(request);
        default:
          return error(request, JSONRPC.METHOD_NOT_FOUND, `Method not found: ${request.method}`);
      }
    },
    receive() {
      // notifications/initialized, notifications/cancelled: nothing to do for these tools.
    },
    openStream() {
      // The demo has no unsolicited messages; the stream stays open until closed.
      return new MessageQueue<JsonRpcMessage>();
    },
  };
}

function callTool(request: JsonRpcRequest): Reply | Promise<Reply> {
  const name = request.params?.['name'];
  const args = isObject(request.params?.['arguments']) ? request.params['arguments'] : {};
  switch (name) {
    case 'echo':
      if (typeof args['text'] !== 'string') return error(request, JSONRPC.INVALID_PARAMS, 'echo: "text" must be a string');
      return text(request, args['text']);
    case 'whoami':
      return text(request, String(process.pid));
    case 'slow': {
      const ms = args['ms'];
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_SLOW_MS) {
        return error(request, JSONRPC.INVALID_PARAMS, `slow: "ms" must be an integer from 0 to ${MAX_SLOW_MS}`);
      }
      return slow(request, ms);
    }
    default:
      return error(request, JSONRPC.INVALID_PARAMS, `Unknown tool: ${String(name)}`);
  }
}

/** Without a progress token: one JSON answer. With one: an SSE stream of progress, then the answer. */
function slow(request: JsonRpcRequest, ms: number): Reply | Promise<Reply> {
  const meta = request.params?.['_meta'];
  const token = isObject(meta) ? meta['progressToken'] : undefined;
  const done = text(request, `waited ${ms} ms`);
  if (typeof token !== 'string' && typeof token !== 'number') return new Promise((resolve) => setTimeout(() => resolve(done), ms));
  const steps = 5;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const queue = new MessageQueue<JsonRpcMessage>(() => timers.forEach(clearTimeout));
  for (let step = 1; step <= steps; step++) {
    timers.push(
      setTimeout(
        () => {
          queue.push({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: step, total: steps } });
          if (step === steps) {
            queue.push(done);
            queue.end();
          }
        },
        Math.round((ms * step) / steps),
      ),
    );
  }
  return queue;
}

function ok(request: JsonRpcRequest, result: JsonObject): JsonRpcResponse {
  return { jsonrpc: '2.0', id: request.id, result };
}

function text(request: JsonRpcRequest, value: string): JsonRpcResponse {
  return ok(request, { content: [{ type: 'text', text: value }] });
}

function error(request: JsonRpcRequest, code: number, message: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id: request.id, error: { code, message } };
}
