/**
 * @module server/body
 * Reads a POST body under a size limit without holding more than the limit in memory: a
 * declared Content-Length over the limit is refused before reading, and a body that grows past
 * it is abandoned mid-stream (413).
 */
import { SessiongateError } from '../protocol/failures.js';
import type { Incoming } from './exchange.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(incoming: Incoming, limit: number): Promise<unknown> {
  if (incoming.parsedBody !== undefined) return incoming.parsedBody;
  const declared = incoming.header('content-length');
  if (declared !== undefined && Number(declared) > limit) throw new SessiongateError('SG_BODY_TOO_LARGE');
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of incoming.body()) {
    size += chunk.byteLength;
    if (size > limit) throw new SessiongateError('SG_BODY_TOO_LARGE');
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = decoder.decode(chunks.length === 1 ? chunks[0] : concat(chunks, size));
  } catch {
    throw new SessiongateError('SG_PARSE_ERROR', 'Parse error: body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SessiongateError('SG_PARSE_ERROR');
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
