/**
 * @module server/handle-post
 * POST: one JSON-RPC message (or a 2025-03-26 batch) to the application.
 */
import { JSONRPC, SessiongateError, withRequestId } from '../protocol/failures.js';
import { readSessionlessMeta, REMOVED_IN_SESSIONLESS } from '../protocol/sessionless-meta.js';
import { checkRoutingHeaders } from '../protocol/routing-headers.js';
import { PROTOCOL_VERSION, SESSION_ID } from '../protocol/headers.js';
import {
  type Classified,
  classify,
  initializeParams,
  isRequest,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.js';
import { acceptsJsonAndSse, isJsonContentType } from '../protocol/media-type.js';
import { allowsBatch, isHandshakeRevision, isSessionlessRevision, negotiateRevision } from '../protocol/revisions.js';
import type { SessionRecord } from '../store/record.js';
import { isStreamReply, type Reply, type RequestContext, responseOf } from './application.js';
import { readJsonBody } from './body.js';
import { clientSessionIdOf, requestContext, sessionHandle, withSignal } from './context.js';
import type { Incoming, Outgoing } from './exchange.js';
import { checkVersionHeader, identityOf, requireSession } from './session-gate.js';
import type { ServerCore } from './server-core.js';
import { sseHeaders, sseStream } from './sse.js';
import { primingEvent, recordedStream } from './resume/recorded-stream.js';

export async function handlePost(core: ServerCore, incoming: Incoming): Promise<Outgoing> {
  if (!isJsonContentType(incoming.header('content-type'))) {
    throw new SessiongateError('SG_UNSUPPORTED_MEDIA_TYPE');
  }
  if (!acceptsJsonAndSse(incoming.header('accept'))) throw new SessiongateError('SG_NOT_ACCEPTABLE');
  // Who is calling is settled from the headers before the body is read or parsed: a stranger
  // gets 401 without costing a parse (docs/SECURITY.md, "Nobody stalls everyone").
  const pending = identityOf(core, incoming);
  const identity = typeof pending === 'object' ? await pending : pending;
  const classified = classify(await readJsonBody(incoming, core.maxBodyBytes));
  try {
    return await route(core, incoming, classified, identity);
  } catch (error) {
    throw withRequestId(error, 'message' in classified && isRequest(classified.message) ? classified.message.id : undefined);
  }
}

async function route(core: ServerCore, incoming: Incoming, classified: Classified, identity: string | undefined): Promise<Outgoing> {
  switch (classified.kind) {
    case 'initialize':
      return initialize(core, incoming, classified.message, identity);
    case 'sessionless':
      return sessionless(core, incoming, classified.message, identity);
    case 'batch': {
      const header = incoming.header(PROTOCOL_VERSION);
      checkVersionHeader(header);
      const record = await requireSession(core, incoming, identity);
      // S8: batches exist in 2025-03-26 only.
      const version = header ?? record.protocolVersion;
      if (!allowsBatch(version) || !allowsBatch(record.protocolVersion)) throw new SessiongateError('SG_BATCH_NOT_ALLOWED');
      return dispatch(core, incoming, classified.messages, contextFor(core, incoming, record, classified.messages[0]));
    }
    default: {
      // A sessionless version header on a body without sessionless `_meta`: the sessionless checks say why.
      const header = incoming.header(PROTOCOL_VERSION);
      if (header !== undefined && isSessionlessRevision(header)) return sessionless(core, incoming, classified.message, identity);
      checkVersionHeader(header);
      const record = await requireSession(core, incoming, identity);
      return dispatch(core, incoming, [classified.message], contextFor(core, incoming, record, classified.message));
    }
  }
}

function contextFor(core: ServerCore, incoming: Incoming, record: SessionRecord, message: JsonRpcMessage | undefined): RequestContext {
  return requestContext(incoming, {
    session: sessionHandle(core.sessions, record),
    protocolVersion: record.protocolVersion,
    principal: record.principal,
    clientSessionId: clientSessionIdOf(incoming, message) ?? record.clientSessionId ?? undefined,
  });
}

/** Lifecycle + S1: initialize mints the session; its id goes back in `MCP-Session-Id`. */
async function initialize(core: ServerCore, incoming: Incoming, request: JsonRpcRequest, identity: string | undefined): Promise<Outgoing> {
  const existing = incoming.header(SESSION_ID);
  if (existing !== undefined) {
    // A second initialize on a live session is a client error (400); an unknown id is 404 (S4).
    await core.sessions.resolve(existing, identity);
    throw new SessiongateError('SG_ALREADY_INITIALIZED', undefined, { requestId: request.id });
  }
  const params = initializeParams(request);
  const record = await core.sessions.create({
    identity,
    protocolVersion: negotiateRevision(params.protocolVersion),
    initialize: params,
    clientSessionId: clientSessionIdOf(incoming, request) ?? null,
  });
  let response: JsonRpcResponse;
  // An initialize in flight is work like any request: a slow upstream start (a child spawned
  // under load) must not let the new session idle out on another replica meanwhile.
  const release = core.sessions.busy(record.id);
  try {
    response = await responseOf(await answerOf(core, incoming, request, contextFor(core, incoming, record, request)));
  } catch (error) {
    // Nothing half-created: no answer, no session.
    await core.sessions.end(record.id, 'delete');
    throw error;
  } finally {
    release();
  }
  if ('error' in response) {
    await core.sessions.end(record.id, 'delete');
    return json(200, response);
  }
  const agreed = response.result['protocolVersion'];
  if (typeof agreed === 'string' && agreed !== record.protocolVersion && isHandshakeRevision(agreed)) {
    await core.sessions.setProtocolVersion(record.id, agreed);
  }
  const answer = json(200, response);
  answer.headers[SESSION_ID] = record.id;
  return answer;
}

/**
 * 2026-07-28 (docs/PROTOCOL.md, section 4): no session is minted or echoed (an `MCP-Session-Id` is
 * ignored); `_meta` and the version header are checked (-32602, -32020, -32022), then the
 * routing headers (-32020); a method the revision removed is unknown (404, -32601).
 */
async function sessionless(core: ServerCore, incoming: Incoming, message: JsonRpcMessage, identity: string | undefined): Promise<Outgoing> {
  const meta = readSessionlessMeta(message, incoming.header(PROTOCOL_VERSION));
  checkRoutingHeaders((name) => incoming.header(name), message);
  if ('method' in message && REMOVED_IN_SESSIONLESS.has(message.method)) {
    throw new SessiongateError('SG_METHOD_NOT_FOUND', `Method not found: ${message.method} does not exist in ${meta.protocolVersion}`);
  }
  const principal = identity === undefined ? null : await core.sessions.principalOf(identity);
  const context = requestContext(incoming, {
    session: undefined,
    protocolVersion: meta.protocolVersion,
    principal,
    clientSessionId: clientSessionIdOf(incoming, message),
  });
  if (!isRequest(message)) {
    await core.application.receive(message, context);
    return { status: 202, headers: {}, body: null };
  }
  const reply = await answerOf(core, incoming, message, context);
  if (isStreamReply(reply)) return { status: 200, headers: sseHeaders(), body: sseStream(reply, incoming.signal) };
  return json(sessionlessStatus(reply), reply);
}

/**
 * Streamable HTTP 2026-07-28: an unknown method is 404; header, capability and version errors
 * are 400, whichever layer found them (the application, or a peer behind it).
 */
function sessionlessStatus(response: JsonRpcResponse): number {
  if (!('error' in response)) return 200;
  const code = response.error.code;
  if (code === JSONRPC.METHOD_NOT_FOUND) return 404;
  if (code === JSONRPC.HEADER_MISMATCH || code === JSONRPC.MISSING_CLIENT_CAPABILITY || code === JSONRPC.UNSUPPORTED_VERSION) return 400;
  return 200;
}

/**
 * S7: only notifications/responses -> 202, no body. Requests -> one JSON response when every
 * reply is a plain response; otherwise one SSE stream carrying everything.
 */
async function dispatch(core: ServerCore, incoming: Incoming, messages: JsonRpcMessage[], context: RequestContext): Promise<Outgoing> {
  const only = messages.length === 1 ? messages[0]! : undefined;
  // A session with a request in flight is not idle, however long the request takes.
  const release = context.session === undefined ? undefined : core.sessions.busy(context.session.id);
  let releasedByStream = false;
  const streamed = (messages: AsyncIterable<JsonRpcMessage>): Outgoing => {
    releasedByStream = true;
    const { recorder } = core;
    if (recorder === undefined || context.session === undefined) {
      return { status: 200, headers: sseHeaders(), body: sseStream(messages, incoming.signal, release) };
    }
    const writer = recorder.open(context.session.id, 'c', only !== undefined && isRequest(only) ? only.id : null);
    const priming = primingEvent(writer, context.protocolVersion);
    return { status: 200, headers: sseHeaders(), body: recordedStream(writer, messages, incoming.signal, priming, () => release?.()) };
  };
  try {
    if (only !== undefined && isRequest(only)) {
      // The common case, one request: no arrays, no merging.
      const reply = await answerOf(core, incoming, only, context);
      return isStreamReply(reply) ? streamed(reply) : json(200, reply);
    }
    const replies: Reply[] = [];
    for (const message of messages) {
      if (isRequest(message)) replies.push(await answerOf(core, incoming, message, context, true));
      else {
        if (context.session !== undefined) cancelIfAsked(core, context.session.id, message);
        await core.application.receive(message, context);
      }
    }
    if (replies.length === 0) return { status: 202, headers: {}, body: null };
    const single = messages.length === 1;
    if (!replies.some(isStreamReply)) {
      return json(200, single ? (replies[0] as JsonRpcResponse) : (replies as JsonRpcResponse[]));
    }
    return streamed(merge(replies));
  } finally {
    if (!releasedByStream) release?.();
  }
}

/**
 * The application's answer to one request, bounded (server/in-flight.ts): a deadline, the
 * session's end and the in-flight caps; `context.signal` (and `cancel`, when the application has
 * one) tells the application it ended early.
 */
function answerOf(core: ServerCore, incoming: Incoming, request: JsonRpcRequest, context: RequestContext, shared = false): Promise<Reply> {
  // S12: with resumption, a client that leaves does not cancel; `notifications/cancelled` does.
  // No shared never-aborting signal stands in for it: each request would add a listener to it.
  const client = core.recorder !== undefined && context.session !== undefined ? undefined : incoming;
  const flight = core.inFlight.admit(request.id, context.session?.id, context.principal, client);
  const { application } = core;
  return core.inFlight.run(
    flight,
    () => application.handle(request, withSignal(context, flight, shared)),
    application.cancel && ((reason) => application.cancel!(request, context, reason)),
  );
}

/** `notifications/cancelled` ends the request it names (its stream may outlive the client's connection). */
function cancelIfAsked(core: ServerCore, sessionId: string, message: JsonRpcMessage): void {
  if (!('method' in message) || message.method !== 'notifications/cancelled') return;
  const requestId = message.params?.['requestId'];
  if (typeof requestId === 'string' || typeof requestId === 'number') core.inFlight.cancel(sessionId, requestId);
}

async function* merge(replies: Reply[]): AsyncGenerator<JsonRpcMessage> {
  for (const reply of replies) {
    if (isStreamReply(reply)) yield* reply;
    else yield reply;
  }
}

function json(status: number, body: JsonRpcResponse | JsonRpcResponse[]): Outgoing {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
