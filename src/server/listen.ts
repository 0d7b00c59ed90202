/**
 * @module server/listen
 * A node:http listener for a session server: `/mcp` to it, `/healthz`, extra routes (the
 * gateway's /readyz, /metrics, /admin/, /console/) under the same Host check, connection and
 * slow-client limits (docs/limits.md, "Connections"), and a two-step shutdown (stop accepting
 * and let calls under way finish, then close what is left).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostAllowed } from './origin.js';
import type { SessionServer } from './session-server.js';

export interface Listening {
  readonly url: string;
  readonly http: Server;
  /** Stops accepting and waits (at most `graceMs`) for POST/DELETE exchanges under way. */
  stop(graceMs: number): Promise<void>;
  /** Ends every connection left (streams included) and resolves once the listener is closed. */
  close(): Promise<void>;
}

const NOT_FOUND = JSON.stringify({ error: 'Not Found: the MCP endpoint is /mcp' });

/**
 * Extra endpoints beside /mcp and /healthz: an exact path, or a prefix ending in "/" (e.g.
 * "/admin/"). The handler gets the request, the response and the path.
 */
export type Routes = Readonly<Record<string, (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>>>;

function routeFor(routes: Routes, path: string): Routes[string] | undefined {
  if (routes[path]) return routes[path];
  for (const [key, handler] of Object.entries(routes)) if (key.endsWith('/') && path.startsWith(key)) return handler;
  return undefined;
}

/** How the listener protects itself (docs/limits.md, "Connections"). */
export interface ListenLimits {
  /** Host names the extra routes (/metrics, /admin, /readyz) accept, as /mcp does; undefined: any. */
  allowedHosts?: readonly string[] | undefined;
  /** Connections open at once; more are refused at accept. */
  maxConnections?: number;
  /** What `/healthz?servers=1` adds (a federation's servers); plain `/healthz` stays "ok". */
  healthDetail?: () => Record<string, unknown>;
}

/**
 * The one shutdown order of a session server (listening, or never made to): stop accepting and let exchanges under
 * way finish (at most `graceMs`), end every session when asked (a memory store's sessions end
 * with the process: the audit says "shutdown"), answer what is left and free each session's
 * process-local resources (server.close), then end the streams and close the listener.
 */
export async function shutDown(
  server: SessionServer,
  listening: Listening | undefined,
  { graceMs, endSessions }: { graceMs: number; endSessions: boolean },
): Promise<void> {
  await listening?.stop(graceMs);
  if (endSessions) await server.sessions.endAll('shutdown');
  await server.close();
  await listening?.close();
}

/** A request's headers must arrive within this, and the whole request (a POST body) within REQUEST_MS. */
export const HEADERS_MS = 10_000;
export const REQUEST_MS = 30_000;

export async function listen(
  server: SessionServer,
  port: number,
  host: string,
  routes: Routes = {},
  limits: ListenLimits = {},
): Promise<Listening> {
  // POST and DELETE exchanges under way: shutdown lets them finish (GET streams never do).
  let inFlight = 0;
  let drained: (() => void) | undefined;
  // Timeouts are checked every 2 s (Node's default is 30 s, which would let a slow client hold
  // a connection up to 40 s past its header deadline).
  const http = createServer({ connectionsCheckingInterval: 2000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    // /mcp first: the route table is looked up only for the operator's routes, not per MCP request.
    const route = path === '/mcp' ? undefined : routeFor(routes, path);
    if (path === '/mcp') {
      if (req.method !== 'GET') {
        inFlight++;
        res.once('close', () => {
          if (--inFlight === 0) drained?.();
        });
      }
      server.node(req, res).catch(() => res.destroy());
    } else if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const detail = limits.healthDetail && /[?&]servers=1(&|$)/.test(req.url ?? '') ? limits.healthDetail() : undefined;
      if (!detail) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      // Server names and targets are topology: only for hosts /mcp accepts.
      else if (!hostAllowed(req.headers.host, limits.allowedHosts)) res.writeHead(403).end();
      else
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ ok: true, ...detail }));
    } else if (route && !hostAllowed(req.headers.host, limits.allowedHosts)) {
      // DNS rebinding: the Host check of /mcp applies to every route that tells or changes anything.
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Forbidden: Host not allowed' }));
    } else if (route) {
      Promise.resolve(route(req, res, path)).catch(() => (res.headersSent ? res.destroy() : res.writeHead(500).end()));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(NOT_FOUND);
    }
  });
  // Slowloris: headers within 10 s, a whole request (body included) within 30 s; GET streams are
  // answers, not requests, so they are not cut.
  http.headersTimeout = HEADERS_MS;
  http.requestTimeout = REQUEST_MS;
  if (limits.maxConnections !== undefined) http.maxConnections = limits.maxConnections;
  const origin = await listenOn(http, port, host);
  const closed = new Promise<void>((resolve) => http.once('close', () => resolve()));
  return {
    url: `${origin}/mcp`,
    http,
    async stop(graceMs) {
      http.close();
      http.closeIdleConnections();
      if (inFlight === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        drained = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    },
    async close() {
      http.close();
      // Open SSE streams and calls past the grace period would hold close() forever.
      http.closeAllConnections();
      await closed;
    },
  };
}

/** Listens on `host:port` (a port in use rejects) and resolves with the origin it serves, http://HOST:PORT. */
export async function listenOn(http: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
