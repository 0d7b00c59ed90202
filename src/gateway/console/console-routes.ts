/**
 * @module gateway/console/console-routes
 * The operator console at /console (docs/CONSOLE.md), mounted only with an admin token: the
 * page and its bundled assets (built from console/ into dist/console at build time: nothing is
 * fetched from elsewhere at run time), served under a strict Content-Security-Policy (no inline
 * script or style, nothing from another origin, no framing), and its API (console-api.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleApi, type ConsoleApiOptions, SECURITY_HEADERS } from './console-api.js';

/** Where the build puts the console's files: dist/console, from dist/ and from src/ alike. */
const ASSETS = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

/** The handlers for `/console` and everything under `/console/`. */
export function consoleRoutes(options: ConsoleApiOptions): Record<'/console' | '/console/', RouteHandler> {
  const files = readAssets();
  const api = consoleApi(options);
  const handler: RouteHandler = async (req, res, path) => {
    if (path.startsWith('/console/api/')) return api(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
      return;
    }
    if (path === '/console') {
      res.writeHead(308, { location: '/console/', ...SECURITY_HEADERS }).end();
      return;
    }
    const name = path === '/console/' ? 'index.html' : path.slice('/console/'.length);
    const body = files.get(name);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    res
      .writeHead(200, {
        'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'cache-control': name === 'index.html' ? 'no-store' : 'no-cache',
        ...SECURITY_HEADERS,
      })
      .end(req.method === 'HEAD' ? undefined : body);
  };
  return { '/console': handler, '/console/': handler };
}

/** The built console, read once: its file names are the only paths served. */
function readAssets(): Map<string, Buffer> {
  let names: string[];
  try {
    names = readdirSync(ASSETS);
  } catch {
    throw new Error(`the console is not built (${ASSETS} is missing): run npm run build`);
  }
  return new Map(names.map((name) => [name, readFileSync(join(ASSETS, name))]));
}
