/**
 * @module gateway/http-json
 * The small JSON answers and request bodies of the gateway's own HTTP routes (the admin API,
 * the console's API): answered uncached, bodies bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyLimit, readChunks } from '../server/body.js';

/** A JSON answer that no cache keeps (the admin API's and the console's). */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** A small JSON request body (at most 4 KiB): undefined when empty; throws when too large or not JSON. */
export async function smallJsonBody(req: IncomingMessage): Promise<unknown> {
  const text = new TextDecoder().decode(await readChunks(req, new BodyLimit(4096)));
  return text.trim() === '' ? undefined : JSON.parse(text);
}

/** The person an admin or console request names: `?issuer=&subject=` (both required). */
export function personQuery(url: URL): { issuer: string; subject: string } | undefined {
  const [issuer, subject] = [url.searchParams.get('issuer'), url.searchParams.get('subject')];
  return issuer && subject ? { issuer, subject } : undefined;
}
