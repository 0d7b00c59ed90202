/**
 * @module server/node-adapter
 * node:http (and Express, Fastify) to the core: translation only. Uses structural types so the
 * module imports nothing from Node at run time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Incoming, Outgoing } from './exchange.js';
import { isStreamBody } from './exchange.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

export function toNodeHandler(handle: (incoming: Incoming) => Promise<Outgoing>): NodeHandler {
  return async function nodeHandler(req, res, parsedBody) {
    const headers = req.headers;
    let controller: AbortController | undefined;
    const incoming: Incoming = {
      method: req.method ?? 'GET',
      header(name) {
        const value = headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      // Leaving the loop early (413) must not destroy the socket the answer goes out on.
      body: () => req.iterator({ destroyOnReturn: false }),
      parsedBody,
      // Created on first use: most requests never look at it.
      get signal() {
        if (!controller) {
          const c = (controller = new AbortController());
          res.once('close', () => c.abort());
          if (res.destroyed) c.abort();
        }
        return controller.signal;
      },
    };
    const answer = await handle(incoming);
    // A 413 leaves the rest of the body unread: close the connection instead of draining it.
    if (answer.status === 413) res.shouldKeepAlive = false;
    await write(res, answer);
  };
}

async function write(res: ServerResponse, answer: Outgoing): Promise<void> {
  const body = answer.body;
  if (!isStreamBody(body)) {
    res.writeHead(answer.status, answer.headers);
    res.end(body ?? undefined);
    return;
  }
  res.writeHead(answer.status, answer.headers);
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
