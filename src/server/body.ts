/**
 * @module server/body
 * Reads a POST body under a size limit without holding more than the limit in memory: a
 * declared Content-Length over the limit is refused before reading, and a body that grows past
 * it is abandoned mid-stream (413). Adapters feed chunks to a `BodyLimit`; the rule lives here.
 */
import { SessiongateError } from '../protocol/failures.js';
import { jsonNestsDeeperThan } from '../protocol/json-depth.js';
import { MAX_NESTING_DEPTH } from '../protocol/jsonrpc.js';
import type { Incoming } from './exchange.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Collects body chunks and throws SG_BODY_TOO_LARGE as soon as they pass `max` bytes. */
export class BodyLimit {
  readonly #max: number;
  readonly #chunks: Uint8Array[] = [];
  #size = 0;

  constructor(max: number) {
    this.#max = max;
  }

  add(chunk: Uint8Array): void {
    this.#size += chunk.byteLength;
    if (this.#size > this.#max) throw new SessiongateError('SG_BODY_TOO_LARGE');
    this.#chunks.push(chunk);
  }

  bytes(): Uint8Array {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** Reads a body from an async iterable of chunks (web streams, tests). */
export async function readChunks(source: AsyncIterable<Uint8Array>, limit: BodyLimit): Promise<Uint8Array> {
  for await (const chunk of source) limit.add(chunk);
  return limit.bytes();
}

export async function readJsonBody(incoming: Incoming, max: number): Promise<unknown> {
  if (incoming.parsedBody !== undefined) return incoming.parsedBody;
  const declared = incoming.header('content-length');
  if (declared !== undefined && Number(declared) > max) throw new SessiongateError('SG_BODY_TOO_LARGE');
  const bytes = await incoming.readBody(new BodyLimit(max));
  // Nesting bounded before parsing (protocol/json-depth.ts); a batch adds one level.
  if (jsonNestsDeeperThan(bytes, MAX_NESTING_DEPTH + 1))
    throw new SessiongateError('SG_INVALID_REQUEST', `Invalid JSON-RPC message: nested deeper than ${MAX_NESTING_DEPTH} levels`);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new SessiongateError('SG_PARSE_ERROR', 'Parse error: body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SessiongateError('SG_PARSE_ERROR');
  }
}
