/**
 * @module server/exchange
 * The runtime-neutral shape of one HTTP exchange. The core handles an `Incoming` and returns an
 * `Outgoing`; the web-standard and node:http adapters only translate (they add no MCP logic).
 */
import type { Identity, RequestTimings } from './application.js';

import type { BodyLimit } from './body.js';

export interface Incoming {
  readonly method: string;
  /** A request header by lower-case name; repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** Every request header, lower-case names (for applications that hand headers on). */
  headers(): Record<string, string | string[] | undefined>;
  /**
   * Reads the whole body, feeding each chunk to `limit` (which throws past the size limit, and
   * then no more is read). Never called for GET, DELETE, or a request refused early.
   */
  readBody(limit: BodyLimit): Promise<Uint8Array>;
  /** A body a framework already parsed (Express `express.json()`, Fastify); skips reading. */
  readonly parsedBody?: unknown;
  /** Aborted when the client goes away. S12: that is not a cancellation of its requests. */
  readonly signal: AbortSignal;
  /** The verified caller, once `authenticate` returned an `Identity` (session-gate.ts). */
  identity?: Identity;
  /** When authentication and the session's look-up ran, with `recordTimings` (session-gate.ts). */
  timings?: RequestTimings;
}

export interface Outgoing {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** A complete body, nothing (202/204), or an SSE event stream written as it is produced. */
  readonly body: string | null | AsyncIterable<string>;
}

export function isStreamBody(body: Outgoing['body']): body is AsyncIterable<string> {
  return typeof body === 'object' && body !== null;
}
