/**
 * @module server/node-adapter
 * node:http (and Express, Fastify) to the core: translation only. Uses structural types so the
 * module imports nothing from Node at run time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from './application.js';
import type { Incoming, Outgoing } from './exchange.js';
import { isStreamBody } from './exchange.js';
import type { BodyLimit } from './body.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

/** One request as the core sees it; a class so no closures are built per request. */
class NodeIncoming implements Incoming {
  readonly method: string;
  readonly parsedBody: unknown;
  /** Declared, so setting it (session-gate.ts) keeps one shape for every request. */
  identity: Identity | undefined = undefined;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #headers: IncomingMessage['headers'];
  #controller: AbortController | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, parsedBody: unknown) {
    this.method = req.method ?? 'GET';
    this.parsedBody = parsedBody;
    this.#req = req;
    this.#res = res;
    this.#headers = req.headers;
  }

  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  headers(): Record<string, string | string[] | undefined> {
    return this.#headers;
  }

  readBody(limit: BodyLimit): Promise<Uint8Array> {
    return readNodeBody(this.#req, limit);
  }

  /** Created on first use: most requests never look at it. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      const res = this.#res;
      // Only a close before the answer was finished means the client left.
      res.once('close', () => res.writableFinished || controller.abort());
      if (res.destroyed) controller.abort();
    }
    return this.#controller.signal;
  }
}

export function toNodeHandler(handle: (incoming: Incoming) => Promise<Outgoing>): NodeHandler {
  return async function nodeHandler(req, res, parsedBody) {
    const answer = await handle(new NodeIncoming(req, res, parsedBody));
    // A 413 leaves the rest of the body unread: the connection closes after it, lingering.
    if (answer.status === 413) closeLingering(req, res);
    const body = answer.body;
    res.writeHead(answer.status, answer.headers);
    if (isStreamBody(body)) await writeStream(res, body);
    else res.end(body ?? undefined);
  };
}

/** How long a connection closed after a 413 goes on reading (and dropping) what the client still sends. */
const LINGER_MS = 5000;

/**
 * A lingering close (docs/limits.md, "Messages"): the answer says `Connection: close`; then the
 * server half-closes and goes on reading, dropping, until the client closes or LINGER_MS pass.
 * Closing at once with unread data resets the connection, and a client still sending its body
 * (as most do before reading) got a network error instead of its 413.
 */
function closeLingering(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  const socket = res.socket;
  if (!socket) return;
  // Node ends a non-keep-alive connection with destroySoon() once the answer is written.
  socket.destroySoon = function lingeringClose(): void {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
    req.resume();
    socket.resume();
  };
}

/**
 * Event-based body reading (cheaper than the Readable async iterator on the hot path). Past the
 * limit it stops listening and pauses: the socket stays usable for the 413 answer.
 */
function readNodeBody(req: IncomingMessage, limit: BodyLimit): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // Listeners stay attached after success ('close' always fires later); `settled` makes the
    // late ones no-ops without building an Error per request.
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Uint8Array): void => {
      try {
        limit.add(chunk);
      } catch (error) {
        fail(error as Error);
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(limit.bytes());
    });
    req.on('error', fail);
    // The client left before the body ended.
    req.on('close', () => settled || fail(new Error('request body aborted')));
  });
}

async function writeStream(res: ServerResponse, body: AsyncIterable<string>): Promise<void> {
  res.flushHeaders();
  const iterator = body[Symbol.asyncIterator]();
  const onClose = (): void => void iterator.return?.()?.catch(() => {});
  res.once('close', onClose);
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || res.destroyed) break;
      if (!res.write(next.value)) await drained(res);
    }
  } catch {
    // The producer failed mid-stream; the status is already sent, so end the stream.
  } finally {
    res.off('close', onClose);
    res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
