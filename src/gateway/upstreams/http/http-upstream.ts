/**
 * @module gateway/upstreams/http/http-upstream
 * Puts an MCP server reachable over HTTP behind sessiongate's sessions. Each downstream session
 * owns exactly one upstream session (a `SessionClient`); the upstream's session id never goes
 * downstream and is kept, with what is needed to recover it, in the session's state, so a
 * gateway restart (or another replica) continues it. An upstream that forgets the session
 * (404) is re-initialized by the client core and the request retried once: the downstream
 * client never notices (docs/PROTOCOL.md, section 6).
 */
import type { Abortable } from '../../../protocol/cancellation.js';
import type { Dispatcher } from 'undici';
import { connectionProblem } from '../../../client/http.js';
import { SessionClient } from '../../../client/session-client.js';
import { checkOptions, isHttpUrl, option, type OptionsSchema, required } from '../../../protocol/options.js';
import { isSessionScoped } from '../../../protocol/session-scoped.js';
import type { JsonRpcMessage, JsonRpcRequest } from '../../../protocol/jsonrpc.js';
import {
  type McpApplication,
  type OrphanedCall,
  type Reply,
  type RequestContext,
  type SessionHandle,
  plainApplication,
} from '../../../server/application.js';
import { withCursor } from '../../../server/resume/stream-cursor.js';
import { waitSpan } from '../../../server/request-trace.js';
import { MessageQueue } from '../../../server/message-queue.js';
import { PendingReply, slowCallReader } from '../../../server/pending-reply.js';
import { sessionTag } from '../../../session/id.js';
import { type HeaderPolicyOptions, headerPolicy } from './header-policy.js';
import { requireSession } from '../require-session.js';
import { upstreamFailure } from '../upstream-failure.js';
import { upstreamCancel } from '../upstream-cancel.js';
import { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';
import { HttpLink } from './http-link.js';
import { DEFAULT_UPSTREAM_CONCURRENCY, FairSlots } from '../fair-slots.js';

/** How often one upstream's failing calls are told to the operator at most. */
const UPSTREAM_TROUBLE_EVERY_MS = 10_000;

export interface HttpUpstreamOptions extends HeaderPolicyOptions {
  /** The upstream MCP endpoint, or several replicas of one server (a pool). Required. */
  url: string | URL | readonly (string | URL)[];
  /** Health checks of a pool's replicas (see UpstreamPool). */
  pool?: UpstreamPoolOptions;
  /** undici dispatcher for the upstream. Default: a shared keep-alive Agent (128 connections). */
  dispatcher?: Dispatcher;
  /**
   * Exchanges with the upstream at once, shared fairly among sessions (fair-slots.ts); give it
   * the dispatcher's connection count, or share one with the era router. Default: 128 slots.
   */
  slots?: FairSlots;
  /** Errors of background work (closing upstream sessions, the upstream GET stream). */
  onError?: (error: unknown) => void;
  /** The largest message accepted from the upstream (bytes of a JSON answer, characters of an SSE event). Default 16 MiB. */
  maxMessageBytes?: number;
}

/** What each HTTP upstream option must be (docs/errors.md, "Configuration errors"); the CLI's flags check by it too. */
export const httpUpstreamSchema = {
  url: required(
    option.custom('must be an http(s) URL or a non-empty list of them', (value) => {
      const urls: unknown[] = Array.isArray(value) ? value : [value];
      return urls.length > 0 && urls.every(isHttpUrl);
    }),
  ),
  maxMessageBytes: option.positiveInteger,
  forwardHeaders: option.strings('header names'),
  traceHeaders: option.boolean,
  onError: option.func,
} satisfies OptionsSchema;

export function httpUpstream(options: HttpUpstreamOptions): McpApplication {
  checkOptions(httpUpstreamSchema, options);
  return plainApplication(new HttpUpstream(options));
}

class HttpUpstream implements McpApplication {
  readonly #options: HttpUpstreamOptions;
  readonly #pool: UpstreamPool;
  readonly #headersFor: ReturnType<typeof headerPolicy>;
  readonly #onError: (error: unknown) => void;
  readonly #slots: FairSlots;
  /** Each downstream session's upstream session, on this replica. */
  readonly #links = new Map<string, HttpLink>();
  /** When each upstream URL's failure was last told to `onError` (a few URLs, never per request). */
  readonly #toldAt = new Map<string, number>();

  constructor(options: HttpUpstreamOptions) {
    this.#options = options;
    this.#pool = new UpstreamPool(Array.isArray(options.url) ? options.url : [options.url as string | URL], options.pool);
    this.#headersFor = headerPolicy(options);
    this.#onError = options.onError ?? (() => {});
    this.#slots = options.slots ?? new FairSlots(DEFAULT_UPSTREAM_CONCURRENCY);
  }

  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const link = this.#linkFor(context);
    const session = context.session!;
    const pending = new PendingReply(() => this.#onError(slowCallReader(sessionTag(session.id))));
    // The request ended before its answer (deadline, session end, client gone: without
    // resumable streams nobody can receive the answer): the exchange is abandoned, and the
    // upstream told to stop the work (notifications/cancelled), so it holds no connection.
    // The light stand-in for context.signal: an AbortSignal per proxied call cost a tenth of the CPU (protocol/cancellation.ts).
    const signal = context.cancellation ?? context.signal;
    signal.addEventListener('abort', () => void link.client.send(upstreamCancel(request.id)).catch(() => {}), { once: true });
    // Traced: the wait for the session's turn at one of the upstream's connections (fair-slots.ts).
    const turn = waitSpan(context, 'upstream turn');
    this.#exchange(link, session, request, pending, signal, false, turn);
    return pending.reply;
  }

  async receive(message: JsonRpcMessage, context: RequestContext): Promise<void> {
    const link = this.#linkFor(context);
    // Not in the line: a notification or a client's answer is short, and an answer may be what
    // frees the exchanges holding the slots (a server-to-client request waiting for it).
    await link.client.send(message);
  }

  openStream(context: RequestContext): MessageQueue<JsonRpcMessage> {
    // The upstream's GET stream follows the client's: open on the replica where the client
    // listens, closed with it, so a session has one however many replicas serve it (and it
    // comes back when the client reconnects after a restart). What it carries reaches the
    // client through the port's toStream; this source itself stays silent.
    const link = this.#linkFor(context);
    link.listening = true;
    link.client.listen();
    return new MessageQueue<JsonRpcMessage>(() => {
      link.listening = false;
      link.client.unlisten();
    });
  }

  /**
   * A call whose gateway died before it answered
   * (docs/RESUMPTION.md, "A call whose gateway died"): its upstream stream resumed after the
   * upstream event id logged last, on the upstream session stored in the record. What the upstream sent meanwhile, and the response,
   * come back; when the upstream cannot resume (it forgot the session or the events), the
   * stream ends without a response and the client is told the call was lost.
   */
  adopt(call: OrphanedCall, context: RequestContext): MessageQueue<JsonRpcMessage> {
    const link = this.#linkFor(context);
    const session = context.session!;
    const rest = new MessageQueue<JsonRpcMessage>();
    const related = (message: JsonRpcMessage, eventId?: string): Promise<void> | undefined => {
      rest.push(tagged(message, eventId));
      return rest.pressure();
    };
    const { signal } = context;
    this.#slots
      .run(session.id, () => link.client.resumeCall(call.requestId, call.cursor, related, signal), signal, session.record.principal)
      .then(
        (response) => {
          rest.push(response);
          rest.end();
        },
        () => rest.end(),
      );
    return rest;
  }

  async close(): Promise<void> {
    this.#pool.close();
  }

  /** Removed from a federation: every upstream session it opened is ended (DELETE, C5), then it closes. */
  async retire(): Promise<void> {
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const link of links) link.detach();
    await Promise.all(links.map((link) => link.end('admin').catch(this.#onError)));
    await this.close();
  }

  /** One exchange in the session's turn for a connection; a replica that refused it is left for the next one (once). */
  #exchange(
    link: HttpLink,
    session: SessionHandle,
    request: JsonRpcRequest,
    pending: PendingReply,
    signal: Abortable,
    retried: boolean,
    turn?: () => void,
  ): void {
    this.#slots
      .run(
        session.id,
        () => {
          turn?.();
          return link.client.send(request, request.id, (message, eventId) => pending.push(tagged(message, eventId)), signal);
        },
        signal,
        session.record.principal,
      )
      .then(
        async (response) => {
          // initialize and session-scoped calls change what a recovery must replay: persist then.
          if (response && 'result' in response && (request.method === 'initialize' || isSessionScoped(request.method)))
            await link.persist().catch(this.#onError);
          pending.respond(response ?? upstreamFailure(request.id, 'no response'));
        },
        (error: unknown) => {
          turn?.(); // a wait that ended without a turn (the caller left) ends too
          // Refused before anything was sent: that replica is down; safe to try the next one.
          if (!retried && neverSent(error) && this.#pool.urls.length > 1) {
            this.#pool.markDown(link.url);
            link.move(this.#pool, session, this.#onError);
            return this.#exchange(link, session, request, pending, signal, true);
          }
          this.#tellOperator(link.url.href, error);
          pending.respond(upstreamFailure(request.id, (error as Error).message));
        },
      );
  }

  /**
   * An upstream that fails calls is told to the operator (`onError`) with its URL, at most once
   * per URL every UPSTREAM_TROUBLE_EVERY_MS; the caller's answer names the cause, never the URL
   * (docs/SECURITY.md, "A caller learns no internal address").
   */
  #tellOperator(url: string, error: unknown): void {
    const problem = connectionProblem(error);
    const now = Date.now();
    if (problem === undefined || now - (this.#toldAt.get(url) ?? -Infinity) < UPSTREAM_TROUBLE_EVERY_MS) return;
    this.#toldAt.set(url, now);
    this.#onError(new Error(`upstream ${url}: ${problem}; calls to it are answered with an upstream error`));
  }

  /** The session's link: made on its first request here (a new session, or one continued after a restart or a move). */
  #linkFor(context: RequestContext): HttpLink {
    const session = requireSession(context);
    const pool = this.#pool;
    const existing = this.#links.get(session.id);
    if (existing) {
      existing.context = context;
      if (!pool.isUp(existing.url)) existing.move(pool, session, this.#onError);
      return existing;
    }
    const link = new HttpLink(session, context, pool, (of, url) => this.#makeClient(of, url));
    this.#links.set(session.id, link);
    link.detach = session.port.attach(session.id, async (reason) => {
      this.#links.delete(session.id);
      await link.end(reason).catch(this.#onError);
    });
    if (!pool.isUp(link.url)) link.move(pool, session, this.#onError);
    return link;
  }

  #makeClient(link: HttpLink, url: URL): SessionClient {
    return new SessionClient(url, {
      dispatcher: this.#options.dispatcher,
      maxMessageBytes: this.#options.maxMessageBytes,
      // The downstream conversation's correlation id travels upstream unchanged.
      clientSessionId: link.context.clientSessionId ?? false,
      headers: (message) => this.#headersFor(link.context, message),
      onMessage: (message) => link.toClient(message),
    });
  }
}

/** An upstream message with the upstream's event id: where the gateway's log can pick the call up (stream-cursor.ts). */
function tagged(message: JsonRpcMessage, eventId: string | undefined): JsonRpcMessage {
  return eventId === undefined ? message : withCursor(message, eventId);
}

/** A connection refused (nothing reached the upstream): retrying elsewhere cannot run a call twice. */
function neverSent(error: unknown): boolean {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return true;
    cause = cause.cause;
  }
  return false;
}
