/**
 * @module gateway/upstreams/http/http-link
 * One downstream session's upstream session over HTTP: the `SessionClient` that holds it, the
 * pool replica it lives on, and the two state slots that let a restarted gateway (or another
 * replica) continue it.
 */
import { SessionClient } from '../../../client/session-client.js';
import { isSessionSnapshot, type SessionSnapshot } from '../../../client/session-core.js';
import { isString, type JsonObject, type JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import type { RequestContext, SessionHandle, SessionPort } from '../../../server/application.js';
import { guarded, stateSlot } from '../../../session/state-slot.js';
import { sessionTag } from '../../../session/id.js';
import type { EndReason } from '../../../store/record.js';
import type { UpstreamPool } from './upstream-pool.js';

/** Where the upstream session is kept in the downstream session's state. */
const SNAPSHOT = stateSlot<SessionSnapshot>('sessiongate.upstream', guarded(isSessionSnapshot));
/** Which replica of a pool the session is pinned to. */
const PINNED_URL = stateSlot('sessiongate.upstreamUrl', guarded(isString));

/** Which upstream a session is on and its upstream session's tag, as its state says (for the console). */
export function upstreamOf(state: JsonObject): { url: string | undefined; session: string | undefined } {
  const snapshot = SNAPSHOT.read(state);
  return { url: PINNED_URL.read(state), session: snapshot ? sessionTag(snapshot.sessionId) : undefined };
}

/** How a link makes its client (the application's options: dispatcher, headers, limits). */
export type ClientMaker = (link: HttpLink, url: URL) => SessionClient;

export class HttpLink {
  readonly sessionId: string;
  readonly #port: SessionPort;
  readonly #makeClient: ClientMaker;
  client: SessionClient;
  /** The pool replica the upstream session lives on. */
  url: URL;
  /** The latest downstream request, for forwarded headers and the correlation id. */
  context: RequestContext;
  /** Whether the client's GET stream is open on this replica (the upstream's follows it). */
  listening = false;
  /** Takes the link off its session's end (set by whoever attached it: http-upstream.ts). */
  detach: () => void = () => {};

  /**
   * The link of a session this process has none for: a new session, or a live one the gateway
   * restarted under (or another replica created), whose stored upstream session it continues
   * (recovered on 404 like any other).
   */
  constructor(session: SessionHandle, context: RequestContext, pool: UpstreamPool, makeClient: ClientMaker) {
    this.sessionId = session.id;
    this.#port = session.port;
    this.#makeClient = makeClient;
    this.context = context;
    // A pool: the pinned replica, else the rendezvous pick for the conversation (or session).
    const pinned = PINNED_URL.read(session.record.state);
    this.url = pool.urls.find((candidate) => candidate.href === pinned) ?? pool.pick(this.#affinity(session));
    this.client = makeClient(this, this.url);
    const stored = SNAPSHOT.read(session.record.state);
    if (stored) this.client.resume(stored, { listen: false });
  }

  /** What the upstream sends on its GET stream goes to the downstream one, on whichever replica the client holds it. */
  toClient(message: JsonRpcMessage): void {
    void this.#port.toStream(this.sessionId, message);
  }

  /**
   * The session's replica is down: continue on the best one up. The stored session id is
   * unknown there (404), so the client core replays the handshake and the session-scoped calls,
   * as after an upstream restart.
   */
  move(pool: UpstreamPool, session: SessionHandle, onError: (error: unknown) => void): void {
    const to = pool.pick(this.#affinity(session));
    if (to.href === this.url.href) return;
    const snapshot = this.client.snapshot();
    this.client.release();
    this.url = to;
    this.client = this.#makeClient(this, to);
    if (snapshot) this.client.resume(snapshot, { listen: this.listening });
    void this.persist().catch(onError);
  }

  /** Keeps what a recovery needs (after initialize and session-scoped calls, and a move). */
  async persist(): Promise<void> {
    const snapshot = this.client.snapshot();
    if (!snapshot) return;
    await this.#port.writeState(this.sessionId, PINNED_URL, this.url.href);
    await this.#port.writeState(this.sessionId, SNAPSHOT, snapshot);
  }

  /**
   * The downstream session ended here. At shutdown (or when the session moved to another
   * replica) it lives on, and so must the upstream one: the next process resumes it. Any other
   * end also ends the upstream session (C5).
   */
  async end(reason: EndReason | 'moved'): Promise<void> {
    if (reason === 'shutdown' || reason === 'moved') this.client.release();
    else await this.client.close();
  }

  #affinity(session: SessionHandle): string {
    return session.record.clientSessionId ?? session.id;
  }
}
