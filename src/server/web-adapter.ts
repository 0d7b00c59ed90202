/**
 * @module server/web-adapter
 * Web-standard `Request` -> core -> `Response`: translation only.
 */
import type { Incoming, Outgoing } from './exchange.js';
import { isStreamBody } from './exchange.js';
import { readChunks } from './body.js';

const encoder = new TextEncoder();

export function toFetchHandler(handle: (incoming: Incoming) => Promise<Outgoing>): (request: Request) => Promise<Response> {
  return async function fetchHandler(request) {
    const incoming: Incoming = {
      method: request.method,
      header: (name) => request.headers.get(name) ?? undefined,
      headers: () => Object.fromEntries(request.headers),
      readBody: (limit) => readChunks(request.body ?? emptyBody(), limit),
      signal: request.signal,
      identity: undefined,
    };
    const answer = await handle(incoming);
    return new Response(toBodyInit(answer.body), { status: answer.status, headers: answer.headers });
  };
}

function toBodyInit(body: Outgoing['body']): BodyInit | null {
  if (!isStreamBody(body)) return body;
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch {
        controller.close();
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
