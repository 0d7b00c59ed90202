/**
 * @module client/post
 * One POST of one message and the reading of its answer (C1, C6): 202 for notifications and
 * responses; for a request, a JSON body or an SSE stream that carries the response, possibly
 * after notifications and server-to-client requests. A stream that ends before the response is
 * resumed with GET + Last-Event-ID when the server gave event ids, else it is a connection
 * error: a dropped call is never re-sent.
 */
import type { Abortable } from '../protocol/cancellation.js';
import type { Dispatcher } from 'undici';
import { SESSION_ID } from '../protocol/headers.js';
import { isWellFormedMessage, type JsonRpcMessage, type JsonRpcResponse, type RequestId } from '../protocol/jsonrpc.js';
import { mediaTypeEssence } from '../protocol/media-type.js';
import { SessionClientError } from './errors.js';
import { type Body, send } from './http.js';
import { saysSessionLost } from './lost-session.js';
import { SseParser } from './sse-parser.js';
import { BodyTooLargeError } from './response-body.js';

export interface PostContext {
  url: URL;
  headers: Record<string, string>;
  dispatcher: Dispatcher | undefined;
  /**
   * Where every inbound message goes, the response included, with its SSE event id when it had
   * one. A promise back means the receiver has fallen behind: nothing more is read from the
   * stream (so its connection is paused) until it settles.
   */
  deliver(message: JsonRpcMessage, eventId?: string): void | Promise<void>;
  /** C7: strings never to repeat in an error (session id, credential values). */
  secrets: () => readonly string[];
  /** Called with the answer's `MCP-Session-Id` as soon as the headers arrive. */
  onHeaders?(sessionId: string | undefined): void;
  /** Headers for a resumption GET (session id, version, correlation id). */
  resumeHeaders(): Record<string, string>;
  /** Abandons the exchange (the connection is closed) when it aborts. */
  signal?: Abortable | undefined;
  /** The largest message accepted (a JSON answer in bytes, an SSE event in characters). */
  maxMessageBytes: number;
}

export interface PostOutcome {
  /** The `MCP-Session-Id` of the answer, if it had one. */
  sessionId: string | undefined;
  /** The response to the request, if the message was one. */
  response: JsonRpcResponse | undefined;
}

/**
 * Raised inside the client when the answer says the session is unknown (404, or a 400 that says
 * so: lost-session.ts); the caller decides what it means (C4).
 */
export class NotFoundAnswer extends Error {
  constructor(
    readonly body: string,
    readonly status: number,
  ) {
    super(String(status));
  }
}

export async function post(context: PostContext, message: JsonRpcMessage): Promise<PostOutcome> {
  const answer = await send(context.url, 'POST', context.headers, {
    body: JSON.stringify(message),
    dispatcher: context.dispatcher,
    signal: context.signal,
  });
  const sessionId = answer.header(SESSION_ID);
  context.onHeaders?.(sessionId);
  const requestId = 'method' in message && 'id' in message ? message.id : undefined;
  if (answer.status === 404 || answer.status === 400) {
    const text = await safeText(answer.body);
    if (saysSessionLost(answer.status, text)) throw new NotFoundAnswer(text, answer.status);
    throw statusError(answer.status, text, context.secrets());
  }
  if (answer.status < 200 || answer.status >= 300)
    throw statusError(answer.status, await safeText(answer.body), context.secrets(), answer.header('www-authenticate'));
  if (requestId === undefined) {
    await answer.body.dump();
    return { sessionId, response: undefined };
  }
  const type = mediaTypeEssence(answer.header('content-type'));
  if (type === 'application/json') return { sessionId, response: await readJson(answer.body, requestId, context) };
  if (type === 'text/event-stream') return { sessionId, response: await readStream(answer.body, requestId, context) };
  await answer.body.dump();
  throw new SessionClientError('SG_CLIENT_PROTOCOL', `a request was answered ${answer.status} with content type ${type ?? 'none'}`, {
    status: answer.status,
  });
}

async function readJson(body: Body, requestId: RequestId, context: PostContext): Promise<JsonRpcResponse> {
  let parsed: unknown;
  try {
    parsed = await body.json(context.maxMessageBytes);
  } catch (cause) {
    if (cause instanceof BodyTooLargeError) throw tooLarge(context.maxMessageBytes);
    throw new SessionClientError('SG_CLIENT_PROTOCOL', 'the JSON answer did not parse', { cause });
  }
  let response: JsonRpcResponse | undefined;
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  if (!items.every(isMessage)) throw new SessionClientError('SG_CLIENT_PROTOCOL', 'the JSON answer is not a JSON-RPC message');
  for (const [i, item] of items.entries()) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve)); // see readStream
    // The whole body is read already: nothing to pause, so a receiver behind is not waited for.
    void context.deliver(item);
    if (isResponseTo(item, requestId)) response = item;
  }
  if (!response) throw new SessionClientError('SG_CLIENT_PROTOCOL', 'the JSON answer carried no response to the request');
  return response;
}

/** Where reading a call's SSE stream stands, across its resumptions. */
interface StreamProgress {
  response: JsonRpcResponse | undefined;
  /** The last event id seen: where a resumption starts. */
  lastEventId: string | undefined;
  /** The server's `retry`, ms. */
  retryMs: number;
  /** The body being read failed (rather than ended). */
  dropped: boolean;
  /** An event over the size limit arrived: nothing more is read. */
  overflowed: boolean;
}

/** Most resumptions of one call's stream before the call fails. */
const MAX_RESUMES = 3;

/**
 * A call's stream picked up after event `lastEventId` by a process that did not send the call
 * (a gateway restarted while its upstream answered): GET + Last-Event-ID, then read as a
 * resumed stream until the response.
 */
export async function resumeCall(context: PostContext, requestId: RequestId, lastEventId: string): Promise<JsonRpcResponse> {
  return readStream(await resume(context, lastEventId), requestId, context, lastEventId);
}

/** Reads SSE until the response to `requestId` arrives; resumes with GET when it can. */
async function readStream(body: Body, requestId: RequestId, context: PostContext, resumedFrom?: string): Promise<JsonRpcResponse> {
  const progress: StreamProgress = { response: undefined, lastEventId: resumedFrom, retryMs: 1000, overflowed: false, dropped: false };
  let current: Body = body;
  /** The id the body being read resumed from. */
  let from = resumedFrom;
  for (let resumes = 0; ; resumes++) {
    progress.dropped = false;
    await readEvents(current, requestId, context, progress);
    if (progress.response || progress.overflowed) current.destroy();
    if (progress.response) return progress.response;
    if (progress.overflowed) throw tooLarge(context.maxMessageBytes);
    // docs/RESUMPTION.md: a resumption the server ended with nothing new is its way of saying
    // the stream is not there (unknown, or no longer kept): asking again would not help.
    if (from !== undefined && progress.lastEventId === from && !progress.dropped) {
      throw new SessionClientError('SG_CLIENT_CONNECTION', `the server could not resume the stream after event ${from}`);
    }
    // C6 / S11: resume a broken stream with GET + Last-Event-ID, honouring retry.
    if (progress.lastEventId === undefined || resumes >= MAX_RESUMES) {
      throw new SessionClientError(
        'SG_CLIENT_CONNECTION',
        'the stream ended before the response (not retried: the server may have processed the request)',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, progress.retryMs));
    from = progress.lastEventId;
    current = await resume(context, from);
  }
}

/** Reads one SSE body until the response, its end, a drop, or an event over the limit. */
async function readEvents(body: Body, requestId: RequestId, context: PostContext, progress: StreamProgress): Promise<void> {
  // Messages parsed from one chunk are handed over one per turn of the event loop: the SDK's
  // Protocol runs notification handlers a few microtasks late, and a response delivered in the
  // same turn would remove the progress handler before the progress notifications reach it.
  const batch: { message: JsonRpcMessage; id: string | undefined }[] = [];
  const parser = new SseParser(
    {
      onEvent(event) {
        if (event.id !== undefined) progress.lastEventId = event.id;
        if (event.event !== 'message' || event.data === '') return; // priming events carry no data
        let message: unknown;
        try {
          message = JSON.parse(event.data);
        } catch {
          return; // a malformed event is skipped, not fatal to the call
        }
        if (isMessage(message)) batch.push({ message, id: progress.lastEventId });
      },
      onRetry(ms) {
        progress.retryMs = ms;
      },
      onTooLong() {
        progress.overflowed = true;
      },
    },
    { maxEventLength: context.maxMessageBytes },
  );
  try {
    for await (const chunk of body) {
      parser.push(chunk);
      if (progress.overflowed) return;
      for (let i = 0; i < batch.length; i++) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        const { message, id } = batch[i]!;
        const behind = context.deliver(message, id);
        if (behind) await behind;
        if (isResponseTo(message, requestId)) progress.response = message;
      }
      batch.length = 0;
      if (progress.response) return;
    }
  } catch {
    // The connection dropped mid-stream: resumable if the server gave event ids.
    progress.dropped = true;
  }
}

/** The GET that resumes a call's stream after `lastEventId`. */
async function resume(context: PostContext, lastEventId: string): Promise<Body> {
  const resumed = await send(
    context.url,
    'GET',
    { ...context.resumeHeaders(), accept: 'text/event-stream', 'last-event-id': lastEventId },
    // The call's signal bounds its resumed stream too: a server that resumes and then sends
    // nothing more (server-everything) held an adopted call, and its client's stream, for good.
    { dispatcher: context.dispatcher, signal: context.signal },
  );
  if (resumed.status !== 200) {
    await resumed.body.dump();
    throw new SessionClientError('SG_CLIENT_CONNECTION', `resuming the stream got ${resumed.status}`, { status: resumed.status });
  }
  return resumed.body;
}

/** A server's message is read only when its shape is JSON-RPC (`"result": 5` is refused, not relayed). */
function isMessage(value: unknown): value is JsonRpcMessage {
  return isWellFormedMessage(value);
}

function isResponseTo(message: JsonRpcMessage, id: RequestId): message is JsonRpcResponse {
  return !('method' in message) && message.id === id;
}

async function safeText(body: Body): Promise<string> {
  try {
    return (await body.text()).slice(0, 500);
  } catch {
    return '';
  }
}

/** A non-2xx answer; a JSON-RPC error in the body lends its message (server text, no secrets of ours). */
function statusError(status: number, text: string, secrets: readonly string[], challenge?: string): SessionClientError {
  let detail = `HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') detail += `: ${redact(parsed.error.message.slice(0, 200), secrets)}`;
  } catch {
    // not JSON
  }
  return new SessionClientError('SG_CLIENT_HTTP_STATUS', detail, { status, challenge });
}

/** A server may echo what it was sent; our secrets never reach an error message (C7). */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/** A message from the server over the limit: the call fails cleanly, nothing more is read. */
function tooLarge(limit: number): SessionClientError {
  return new SessionClientError('SG_CLIENT_PROTOCOL', `the server sent a message over the ${limit}-byte limit`);
}
