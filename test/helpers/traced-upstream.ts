/**
 * An official-SDK MCP server over Streamable HTTP instrumented with the OpenTelemetry SDK, as a
 * service behind the gateway would be: its tool handlers run in a span whose parent is the
 * trace context the request carried in `params._meta` (SEP-414), exported by the real OTLP
 * exporter (`http/json`) to the test's receiver under its own service name. It also keeps the
 * `traceparent` each call's HTTP request carried, to compare with `_meta`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface TracedUpstream {
  url: string;
  /** Per tools/call: the traceparent in `_meta` and in the HTTP headers. */
  calls: { meta: string | undefined; header: string | undefined }[];
  close(): Promise<void>;
}

export async function startTracedUpstream(service: string, collector: string): Promise<TracedUpstream> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${collector}/v1/traces` }))],
  });
  const tracer = provider.getTracer(service);
  const propagator = new W3CTraceContextPropagator();
  const calls: TracedUpstream['calls'] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = req.method === 'POST' ? await jsonBody(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (!transport && req.method === 'POST' && isInitializeRequest(body)) {
        const made = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (id) => void transports.set(id, made),
        });
        const mcp = new McpServer({ name: service, version: '1.0.0' });
        mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
          const meta = extra._meta as Record<string, string> | undefined;
          const header = extra.requestInfo?.headers['traceparent'];
          calls.push({ meta: meta?.['traceparent'], header: typeof header === 'string' ? header : undefined });
          const parent = propagator.extract(ROOT_CONTEXT, meta ?? {}, { get: (carrier, key) => carrier[key], keys: Object.keys });
          tracer.startSpan(`tool ${text}`, { kind: SpanKind.SERVER }, parent).end();
          return { content: [{ type: 'text', text: `${service}: ${text}` }] };
        });
        mcp.registerTool('progress', {}, async (extra) => {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: extra._meta?.progressToken ?? 0, progress: 1, total: 1 },
          });
          return { content: [{ type: 'text', text: 'done' }] };
        });
        await mcp.connect(made);
        transport = made;
      }
      if (!transport) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      await transport.handleRequest(req, res, body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await provider.shutdown();
    },
  };
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || 'null');
}
