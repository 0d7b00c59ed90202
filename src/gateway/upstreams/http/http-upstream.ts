/**
 * @module gateway/upstreams/http/http-upstream
 * Puts an MCP server reachable over HTTP behind sessiongate's sessions. Each downstream session
 * owns exactly one upstream session (a `SessionClient`); the upstream's session id never goes
 * downstream and is kept, with what is needed to recover it, in the session's state, so a
 * gateway restart (or another replica) continues it. An upstream that forgets the session
 * (404) is re-initialized by the client core and the request retried once: the downstream
 * client never notices (docs/PROTOCOL.md, section 6).
 */
import type { Dispatcher } from 'undici';
import { SessionClient } from '../../../client/session-client.js';
import type { SessionSnapshot } from '../../../client/session-core.js';
import { isSessionScoped } from '../../../protocol/session-scoped.js';
import { isObject, type JsonObject, type JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import type { McpApplication, RequestContext, SessionHandle } from '../../../server/application.js';
import { MessageQueue } from '../../../server/message-queue.js';
import { PendingReply, slowCallReader } from '../../../server/pending-reply.js';
import { sessionTag } from '../../../session/id.js';
import { type HeaderPolicyOptions, headerPolicy } from './header-policy.js';
import { requireSession } from '../require-session.js';
import { upstreamFailure } from '../upstream-failure.js';
import { upstreamCancel } from '../upstream-cancel.js';
import { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';
import { DEFAULT_UPSTREAM_CONCURRENCY, FairSlots } from '../fair-slots.js';

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

/** Where the upstream session is kept in the downstream session's state. */
const STATE_KEY = 'sessiongate.upstream';
/** Which replica of a pool the session is pinned to. */
const URL_KEY = 'sessiongate.upstreamUrl';

interface Link {
  client: SessionClient;
  /** The pool replica the upstream session lives on. */
  url: URL;
  /** The latest downstream request, for forwarded headers. */
  context: RequestContext;
  /** Whether the client's GET stream is open on this replica (the upstream's follows it). */
  listening: boolean;
}

export function httpUpstream(options: HttpUpstreamOptions): McpApplication {
  const pool = new UpstreamPool(Array.isArray(options.url) ? options.url : [options.url as string | URL], options.pool);
  const headersFor = headerPolicy(options);
  const onError = options.onError ?? (() => {});
  const links = new Map<string, Link>();
  const slots = options.slots ?? new FairSlots(DEFAULT_UPSTREAM_CONCURRENCY);

  function clientFor(link: Link, url: URL, clientSessionId: string | undefined): SessionClient {
    return new SessionClient(url, {
      dispatcher: options.dispatcher,
      maxMessageBytes: options.maxMessageBytes,
      // The downstream conversation's correlation id travels upstream unchanged.
      clientSessionId: clientSessionId ?? false,
      headers: () => headersFor(link.context),
      // What the upstream sends on its GET stream goes to the downstream one, on whichever
      // replica the client holds it.
      onMessage: (message) => void link.context.session?.toStream(message),
    });
  }

  function linkFor(context: RequestContext): Link {
    const session = requireSession(context);
    const existing = links.get(session.id);
    if (existing) {
      existing.context = context;
      if (!pool.isUp(existing.url)) move(existing, session);
      return existing;
    }
    // A pool: the pinned replica, else the rendezvous pick for the conversation (or session).
    const pinned = session.record.state[URL_KEY];
    const url = pool.urls.find((candidate) => candidate.href === pinned) ?? pool.pick(session.record.clientSessionId ?? session.id);
    const link = { context, url, listening: false } as Omit<Link, 'client'> as Link;
    link.client = clientFor(link, url, context.clientSessionId);
    links.set(session.id, link);
    session.attach(async (reason) => {
      links.delete(session.id);
      // At shutdown (or when the session moved to another replica) the downstream session lives
      // on, and so must the upstream one: the next process resumes it. Any other end also ends
      // the upstream session (C5).
      if (reason === 'shutdown' || reason === 'moved') link.client.release();
      else await link.client.close().catch(onError);
    });
    // A live downstream session without a link here: the gateway restarted, or another replica
    // created it. Continue the stored upstream session (recovered on 404 like any other).
    const stored = session.record.state[STATE_KEY];
    if (isObject(stored)) link.client.resume(stored as unknown as SessionSnapshot, { listen: false });
    if (!pool.isUp(url)) move(link, session);
    return link;
  }

  /**
   * The session's replica is down: continue on the best one up. The stored session id is
   * unknown there (404), so the client core replays the handshake and the session-scoped calls,
   * as after an upstream restart.
   */
  function move(link: Link, session: SessionHandle): void {
    const to = pool.pick(session.record.clientSessionId ?? session.id);
    if (to.href === link.url.href) return;
    const snapshot = link.client.snapshot();
    link.client.release();
    link.url = to;
    link.client = clientFor(link, to, link.context.clientSessionId);
    if (snapshot) link.client.resume(snapshot, { listen: link.listening });
    void persist(session, link).catch(onError);
  }

  async function persist(session: SessionHandle, link: Link): Promise<void> {
    const snapshot = link.client.snapshot();
    if (snapshot) {
      await session.setState({ ...session.record.state, [STATE_KEY]: snapshot as unknown as JsonObject, [URL_KEY]: link.url.href });
    }
  }

  return {
    handle(request, context) {
      const link = linkFor(context);
      const session = context.session!;
      const pending = new PendingReply(() => onError(slowCallReader(sessionTag(session.id))));
      // The request ended before its answer (deadline, session end, client gone: without
      // resumable streams nobody can receive the answer): the exchange is abandoned, and the
      // upstream told to stop the work (notifications/cancelled), so it holds no connection.
      const signal = context.signal;
      signal.addEventListener('abort', () => void link.client.send(upstreamCancel(request.id)).catch(() => {}), { once: true });
      const attempt = (retried: boolean): void => {
        slots
          .run(session.id, () => link.client.send(request, request.id, (message) => pending.push(message), signal), signal)
          .then(
            async (response) => {
              // initialize and session-scoped calls change what a recovery must replay: persist then.
              if (response && 'result' in response && (request.method === 'initialize' || isSessionScoped(request.method)))
                await persist(session, link).catch(onError);
              pending.respond(response ?? upstreamFailure(request.id, 'no response'));
            },
            (error: unknown) => {
              // Refused before anything was sent: that replica is down; safe to try the next one.
              if (!retried && neverSent(error) && pool.urls.length > 1) {
                pool.markDown(link.url);
                move(link, session);
                return attempt(true);
              }
              pending.respond(upstreamFailure(request.id, (error as Error).message));
            },
          );
      };
      attempt(false);
      return pending.reply;
    },
    async receive(message, context) {
      const link = linkFor(context);
      // Not in the line: a notification or a client's answer is short, and an answer may be what
      // frees the exchanges holding the slots (a server-to-client request waiting for it).
      await link.client.send(message);
    },
    openStream(context) {
      // The upstream's GET stream follows the client's: open on the replica where the client
      // listens, closed with it, so a session has one however many replicas serve it (and it
      // comes back when the client reconnects after a restart). What it carries reaches the
      // client through session.toStream; this source itself stays silent.
      const link = linkFor(context);
      link.listening = true;
      link.client.listen();
      return new MessageQueue<JsonRpcMessage>(() => {
        link.listening = false;
        link.client.unlisten();
      });
    },
    async close() {
      pool.close();
    },
  };
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
