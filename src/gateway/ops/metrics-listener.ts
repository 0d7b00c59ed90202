/**
 * @module gateway/ops/metrics-listener
 * `--metrics-port`: `/metrics` on a listener of its own, so Prometheus can scrape it on an
 * internal port while the MCP port faces callers (it is then not served there). Same host and
 * same host-name check as the MCP listener (docs/limits.md, "Connections").
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostAllowed } from '../../server/origin.js';
import { HEADERS_MS, listenOn, REQUEST_MS } from '../../server/listen.js';

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

export async function listenMetrics(
  port: number,
  host: string,
  allowedHosts: readonly string[] | undefined,
  serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<MetricsListener> {
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found: try /metrics\n');
    if (!hostAllowed(req.headers.host, allowedHosts))
      return void res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden host\n');
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  http.headersTimeout = HEADERS_MS;
  http.requestTimeout = REQUEST_MS;
  const origin = await listenOn(http, port, host);
  return {
    url: `${origin}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections(); // a scraper's kept-alive connection would hold close open
      }),
  };
}
