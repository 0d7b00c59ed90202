/**
 * A raw node:http server whose answers a test scripts per request: status, headers, body
 * chunks, a pause, or a dropped connection. For the client's edge cases and property tests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  headers: IncomingHttpHeaders;
  body: { id?: unknown; method?: string; params?: Record<string, unknown> } | undefined;
  /** The body as it arrived, byte for byte (UTF-8). */
  text: string;
}

export interface Script {
  status: number;
  headers?: Record<string, string>;
  chunks?: string[];
  /** Destroy the socket after writing the chunks instead of ending the response. */
  drop?: boolean;
  /** Never answer (the client must bound its wait). */
  hang?: boolean;
}

export interface ScriptedServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export async function scriptedServer(answer: (request: Seen, index: number) => Script): Promise<ScriptedServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      let body: Seen['body'];
      try {
        body = text ? (JSON.parse(text) as Seen['body']) : undefined;
      } catch {
        body = undefined;
      }
      const request = { method: req.method ?? '', headers: req.headers, body, text };
      seen.push(request);
      const script = answer(request, seen.length - 1);
      if (script.hang) return;
      res.writeHead(script.status, script.headers ?? {});
      for (const chunk of script.chunks ?? []) res.write(chunk);
      if (script.drop) {
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 5);
      } else {
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const SESSION = 'scripted-session-0123456789abcdef';

export function initializeAnswer(request: Seen, sessionId: string | undefined = SESSION): Script {
  return {
    status: 200,
    headers: { 'content-type': 'application/json', ...(sessionId ? { 'mcp-session-id': sessionId } : {}) },
    chunks: [
      JSON.stringify({
        jsonrpc: '2.0',
        id: request.body?.id,
        result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 's', version: '1' } },
      }),
    ],
  };
}

export function sse(...events: string[]): string[] {
  return events.map((event) => `${event}\n\n`);
}
